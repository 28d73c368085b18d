import { createHash, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { isGrpcServiceError } from '@temporalio/client';
import { encodeWorkflowIdConflictPolicy, encodeWorkflowIdReusePolicy } from '@temporalio/common';
import { WorkflowConflictError } from '#lib/errors.ts';
import { logger } from '#lib/logger.ts';
import { CALLER_SCOPE_MEMO } from '#lib/normalize/callerScope.ts';
import type { StartRequest } from '#lib/normalize/types.ts';
import { callTemporal } from '#lib/temporal/call.ts';
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
  const { workflowType, workflowId, taskQueue } = request;
  // One ID for the first attempt and a retry on a fresh connection: the server sees one request.
  let requestId: string | undefined;
  try {
    return await callTemporal(deadline, async ({ client, namespace }) => {
      const { payloadConverter } = client.options.loadedDataConverter;
      requestId ??= requestIdOf(request, namespace);
      const response = await client.workflowService.startWorkflowExecution({
        namespace,
        identity: client.options.identity,
        requestId,
        workflowId,
        workflowType: { name: workflowType },
        taskQueue: { name: taskQueue },
        input: { payloads: request.input === undefined ? [] : [payloadConverter.toPayload(request.input)] },
        workflowIdReusePolicy: encodeWorkflowIdReusePolicy(request.idReusePolicy),
        workflowIdConflictPolicy: encodeWorkflowIdConflictPolicy(request.idConflictPolicy),
        ...(request.scope !== undefined && {
          memo: { fields: { [CALLER_SCOPE_MEMO]: payloadConverter.toPayload(request.scope) } },
        }),
      });
      return {
        workflowId,
        workflowType,
        taskQueue,
        namespace,
        runId: response.runId,
        started: response.started,
      };
    });
  } catch (error) {
    if (!isGrpcServiceError(error) || error.code !== status.ALREADY_EXISTS) {
      throw fromTemporalError(error, request);
    }
  }
  try {
    return await callTemporal(deadline, async ({ client, namespace }) => {
      const existing = await client.workflow.getHandle(workflowId).describe();
      if (existing.status.name === 'RUNNING' && request.idConflictPolicy === 'FAIL') {
        throw new WorkflowConflictError(
          `Workflow ${workflowId} is running, and the conflict policy of ${workflowType} is FAIL`,
        );
      }
      return { workflowId, workflowType, taskQueue, namespace, runId: existing.runId, started: false };
    });
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
