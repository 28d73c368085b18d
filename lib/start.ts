import { createHash, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { isGrpcServiceError } from '@temporalio/client';
import { encodeWorkflowIdConflictPolicy, encodeWorkflowIdReusePolicy } from '@temporalio/common';
import { DeadlineExceededError, TemporalUnavailableError, WorkflowConflictError } from '#lib/errors.ts';
import { logger } from '#lib/logger.ts';
import type { StartRequest } from '#lib/normalize/types.ts';
import { type Temporal, temporal } from '#lib/temporal/client.ts';
import { fromTemporalError } from '#lib/temporal/errors.ts';

export interface StartResult {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly taskQueue: string;
  readonly namespace: string;
  /** False when the workflow already existed: a duplicate delivery is a success, not an error. */
  readonly started: boolean;
}

/**
 * The start's request ID. For an event AWS may deliver again, it is derived from the event's identity,
 * so the server recognises a redelivered start as the same request and returns the run it already
 * started, even after that run has closed and even when the reuse policy would allow a new one.
 */
const requestIdOf = (request: StartRequest, namespace: string): string => {
  if (request.eventId === undefined) return randomUUID();
  const hex = createHash('sha256')
    .update(`${namespace}\0${request.workflowId}\0${request.eventId}`)
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/** The cached client, or a TemporalUnavailableError naming what it was needed for. */
export const connect = async (deadline: number, purpose: string): Promise<Temporal> => {
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw new DeadlineExceededError('No time left in the invocation to reach Temporal');
  try {
    return await temporal(remaining);
  } catch (error) {
    throw new TemporalUnavailableError(`Cannot connect to Temporal (${purpose})`, { cause: error });
  }
};

/**
 * Starts the workflow by its type name (never a function reference: minification renames functions).
 *
 * This calls StartWorkflowExecution itself rather than `client.workflow.start`, because only the raw
 * response says whether a run was started or an existing one reused (`started`) under the
 * USE_EXISTING conflict policy. A closed workflow under REJECT_DUPLICATE answers ALREADY_EXISTS;
 * that is a duplicate too, and reports the existing run. A running one under the FAIL conflict policy
 * is the conflict that policy asks for.
 */
const start = async (request: StartRequest, deadline: number): Promise<StartResult> => {
  const { connection, client, namespace } = await connect(deadline, `workflow ${request.workflowType}`);
  const { workflowType, workflowId, taskQueue } = request;
  const outcome = { workflowId, workflowType, taskQueue, namespace };
  try {
    const { payloadConverter } = client.options.loadedDataConverter;
    const response = await connection.withDeadline(deadline, () =>
      client.workflowService.startWorkflowExecution({
        namespace,
        identity: client.options.identity,
        requestId: requestIdOf(request, namespace),
        workflowId,
        workflowType: { name: workflowType },
        taskQueue: { name: taskQueue },
        input: { payloads: request.input === undefined ? [] : [payloadConverter.toPayload(request.input)] },
        workflowIdReusePolicy: encodeWorkflowIdReusePolicy(request.idReusePolicy),
        workflowIdConflictPolicy: encodeWorkflowIdConflictPolicy(request.idConflictPolicy),
      }),
    );
    return { ...outcome, runId: response.runId, started: response.started };
  } catch (error) {
    if (!isGrpcServiceError(error) || error.code !== status.ALREADY_EXISTS) {
      throw fromTemporalError(error, request);
    }
  }
  try {
    const existing = await connection.withDeadline(deadline, () =>
      client.workflow.getHandle(workflowId).describe(),
    );
    if (existing.status.name === 'RUNNING' && request.idConflictPolicy === 'FAIL') {
      throw new WorkflowConflictError(
        `Workflow ${workflowId} is running, and the conflict policy of ${workflowType} is FAIL`,
      );
    }
    return { ...outcome, runId: existing.runId, started: false };
  } catch (error) {
    throw fromTemporalError(error, request);
  }
};

/** Starts the workflow a request names, and logs the outcome with the event that caused it. */
export const startWorkflow = async (request: StartRequest, deadline: number): Promise<StartResult> => {
  const result = await start(request, deadline);
  const { workflowId, runId, workflowType, started } = result;
  logger.info(started ? 'Workflow started' : 'Workflow already exists', {
    workflowId,
    runId,
    workflowType,
    route: request.route,
    ...(request.eventId && { eventId: request.eventId }),
  });
  return result;
};
