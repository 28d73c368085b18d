import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { ServiceError } from '@temporalio/client';
import {
  DeadlineExceededError,
  StartFailedError,
  StartRejectedError,
  TemplateError,
  TemporalUnavailableError,
} from '#lib/errors.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { fromTemporalError } from '#lib/temporal/errors.ts';

const request: WorkflowRequest = {
  action: 'start',
  options: {},
  target: {},
  workflowType: 'processOrder',
  workflowId: 'order-1',
  taskQueue: 'orders',
  input: undefined,
  idReusePolicy: 'REJECT_DUPLICATE',
  idConflictPolicy: 'USE_EXISTING',
  route: 'orders-api',
};

/** What grpc-js rejects a call with. */
const grpcError = (code: status, details = 'server says no') =>
  Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });

describe('fromTemporalError', () => {
  it('maps gRPC status codes onto transient and permanent errors', () => {
    const cases: [status, new (...args: never[]) => Error, boolean][] = [
      [status.UNAVAILABLE, TemporalUnavailableError, false],
      [status.RESOURCE_EXHAUSTED, TemporalUnavailableError, false],
      [status.DEADLINE_EXCEEDED, DeadlineExceededError, false],
      [status.CANCELLED, DeadlineExceededError, false],
      [status.INVALID_ARGUMENT, StartRejectedError, true],
      [status.INTERNAL, StartFailedError, false],
      [status.PERMISSION_DENIED, TemporalUnavailableError, false],
      [status.UNAUTHENTICATED, TemporalUnavailableError, false],
    ];
    for (const [code, expected, permanent] of cases) {
      const error = fromTemporalError(grpcError(code), request);
      assert.ok(error instanceof expected, `${status[code]} → ${error.name}`);
      assert.equal(error.permanent, permanent, status[code]);
      assert.equal((error.cause as { code: number }).code, code);
    }
  });

  it('unwraps the SDK’s ServiceError', () => {
    const wrapped = new ServiceError('Failed to describe', { cause: grpcError(status.UNAVAILABLE) });
    assert.ok(fromTemporalError(wrapped, request) instanceof TemporalUnavailableError);
  });

  it('passes our own errors through and treats anything unknown as a transient failure', () => {
    const ours = new TemplateError('r', 'p');
    assert.equal(fromTemporalError(ours, request), ours);
    const unknown = fromTemporalError(new TypeError('boom'), request);
    assert.ok(unknown instanceof StartFailedError);
    assert.equal(unknown.permanent, false);
    assert.match(unknown.message, /processOrder\/order-1/);
  });

  it('names the rejected start and shows the server’s reason', () => {
    const error = fromTemporalError(
      grpcError(status.INVALID_ARGUMENT, 'WorkflowId length exceeds limit.'),
      request,
    );
    assert.match(error.message, /processOrder\/order-1: WorkflowId length exceeds limit\./);
  });
});
