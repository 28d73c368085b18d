import { status } from '@grpc/grpc-js';
import { isGrpcServiceError } from '@temporalio/client';
import {
  DeadlineExceededError,
  StartFailedError,
  StartRejectedError,
  TemporalUnavailableError,
  TriggerError,
} from '#lib/errors.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';

const TRANSIENT = new Set<number>([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.ABORTED]);
const REJECTED = new Set<number>([status.INVALID_ARGUMENT, status.FAILED_PRECONDITION, status.OUT_OF_RANGE]);
/** Credentials refused even after a fresh read of the secret: a deployment to fix, and a retry may meet the fix. */
const REFUSED = new Set<number>([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);

/** The gRPC error itself, or the one the SDK wrapped in its own ServiceError. */
const grpcErrorOf = (error: unknown) => {
  if (isGrpcServiceError(error)) return error;
  const cause = error instanceof Error ? error.cause : undefined;
  return isGrpcServiceError(cause) ? cause : undefined;
};

/** The gRPC status code a call to Temporal failed with, if it failed with one. */
export const grpcCodeOf = (error: unknown): status | undefined => grpcErrorOf(error)?.code;

/** Maps whatever a call to Temporal threw onto our error classes. Messages from the server are kept as `cause`. */
export const fromTemporalError = (
  error: unknown,
  subject: Pick<WorkflowRequest, 'workflowId'> & { readonly workflowType?: string },
): TriggerError => {
  if (error instanceof TriggerError) return error;
  const id = `workflow ${subject.workflowType ? `${subject.workflowType}/` : ''}${subject.workflowId}`;
  const grpc = grpcErrorOf(error);
  if (grpc !== undefined) {
    if (grpc.code === status.DEADLINE_EXCEEDED || grpc.code === status.CANCELLED) {
      return new DeadlineExceededError(`Temporal did not answer before the deadline (${id})`, {
        cause: error,
      });
    }
    if (TRANSIENT.has(grpc.code)) {
      return new TemporalUnavailableError(`Temporal is unavailable (${id})`, { cause: error });
    }
    if (REFUSED.has(grpc.code)) {
      // The same answer as a connect the server refuses at cold start: 503, retried.
      return new TemporalUnavailableError(`Temporal refused the credentials (${id})`, { cause: error });
    }
    if (REJECTED.has(grpc.code)) {
      return new StartRejectedError(`Temporal rejected the call for ${id}: ${grpc.details}`, {
        cause: error,
      });
    }
  }
  return new StartFailedError(`The call to Temporal for ${id} failed`, { cause: error });
};
