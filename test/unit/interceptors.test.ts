import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { retryWithinDeadline } from '#lib/temporal/interceptors.ts';
import { freePort } from '../../scripts/temporalServer.ts';

describe('retryWithinDeadline', () => {
  it('fails a call whose retry finds its channel closed through the call itself, and retries no more', async () => {
    // Nothing listens on the port: every attempt fails at once with UNAVAILABLE, and the SDK's
    // interceptor schedules the next one in a timer.
    const connection = Connection.lazy({
      address: `127.0.0.1:${await freePort()}`,
      interceptors: [retryWithinDeadline()],
    });
    const deadline = Date.now() + 10_000;
    const call = connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}));
    await sleep(300);

    // The SDK's own interceptor would create the next attempt on the closed channel in its timer, and
    // grpc-js's "Channel has been shut down" would be thrown from there: an uncaught exception, which
    // fails this test run.
    await connection.close();

    const error = await call.then(
      () => assert.fail('the call succeeded'),
      (failure: unknown) => failure,
    );
    const grpc = isGrpcServiceError(error) ? error : (error as { cause?: unknown }).cause;
    assert.ok(isGrpcServiceError(grpc), `a gRPC status, not ${String(error)}`);
    assert.equal(grpc.code, status.UNAVAILABLE);
    assert.match(grpc.details, /could not be made: Channel has been shut down/);
    assert.ok(Date.now() < deadline - 5_000, 'failed at once, not at the deadline');
  });
});
