import { status as grpcStatus } from '@grpc/grpc-js';
import {
  WorkflowNotFoundError as SdkNotFound,
  type WorkflowExecutionDescription,
  WorkflowFailedError,
} from '@temporalio/client';
import { CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { WorkflowResult } from '#lib/actions.ts';
import { WorkflowNotFoundError } from '#lib/errors.ts';
import { logger } from '#lib/logger.ts';
import { CALLER_SCOPE_MEMO, STARTED_BY_MEMO } from '#lib/normalize/callerScope.ts';
import type { TemporalTarget } from '#lib/normalize/types.ts';
import type { Routes } from '#lib/routes/model.ts';
import { callTemporal } from '#lib/temporal/call.ts';
import type { Temporal } from '#lib/temporal/client.ts';
import { fromTemporalError, grpcCodeOf } from '#lib/temporal/errors.ts';

/** How a closed workflow ended: its result, or the message of the failure that closed it. */
export type Outcome =
  | { readonly status: 'COMPLETED'; readonly result: unknown }
  | {
      readonly status: 'FAILED' | 'CANCELED' | 'TERMINATED' | 'TIMED_OUT';
      readonly failure: { readonly message: string };
    };

/** What `GET /workflows/{workflowId}` answers. */
export interface WorkflowStatus {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  /** RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, CONTINUED_AS_NEW or TIMED_OUT. */
  readonly status: string;
  readonly startTime: string;
  readonly closeTime: string | null;
  readonly result?: unknown;
  readonly failure?: { readonly message: string };
  /** The route and action whose event started the run, when this project started it. */
  readonly startedBy?: { readonly route: string; readonly action: string };
}

const failureStatus = (cause: unknown): Exclude<Outcome['status'], 'COMPLETED'> => {
  if (cause instanceof TerminatedFailure) return 'TERMINATED';
  if (cause instanceof CancelledFailure) return 'CANCELED';
  if (cause instanceof TimeoutFailure) return 'TIMED_OUT';
  return 'FAILED';
};

/**
 * Waits for a run to close, until the deadline. Undefined when it is still open then: the long poll
 * running out is the expected end of a wait, not a sign of a bad connection, so it is not rethrown.
 */
const outcomeOf = async (
  { client }: Temporal,
  workflowId: string,
  runId: string | undefined,
): Promise<Outcome | undefined> => {
  try {
    const result = await client.workflow.getHandle(workflowId, runId).result();
    return { status: 'COMPLETED', result };
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const message = error.cause?.message || error.message;
      return { status: failureStatus(error.cause), failure: { message } };
    }
    if (grpcCodeOf(error) === grpcStatus.DEADLINE_EXCEEDED) return undefined;
    throw error;
  }
};

/**
 * Waits up to the deadline for a started (or existing) workflow to close, following continue-as-new.
 * Undefined when it is still running, or when Temporal could not be asked (unavailable, or no answer
 * in time): the action has already succeeded, so the caller answers as if it had not waited rather
 * than fail a request that did what it asked.
 */
export const awaitOutcome = async (
  acted: WorkflowResult,
  target: TemporalTarget,
  deadline: number,
  scope: string | undefined,
): Promise<Outcome | undefined> => {
  if (deadline <= Date.now()) return undefined;
  const { workflowId, runId } = acted;
  try {
    if (!acted.started && scope !== undefined) {
      // An existing workflow, found by a shared business key: its outcome is its starter's to read.
      const { memo } = await callTemporal(target, deadline, ({ client }) =>
        client.workflow.getHandle(workflowId, runId).describe(),
      );
      if (!visibleTo(memo, scope)) return undefined;
    }
    return await callTemporal(target, deadline, (temporal) => outcomeOf(temporal, workflowId, runId));
  } catch (error) {
    const failure = fromTemporalError(error, { workflowId });
    if (failure.permanent) throw failure;
    logger.warn('Cannot wait for the workflow to close; answering without its outcome', {
      workflowId,
      reason: failure.name,
      error: failure,
    });
    return undefined;
  }
};

/**
 * Whether a workflow is the requester's to see: one an authenticated caller started is shown to that
 * caller only (its scope is in the memo); one started without a caller, to anyone the API lets in.
 */
const visibleTo = (memo: Record<string, unknown> | undefined, scope: string | undefined): boolean => {
  const owner = memo?.[CALLER_SCOPE_MEMO];
  return owner === undefined || owner === scope;
};

const targetKey = (target: TemporalTarget): string => target.namespace ?? '';

/** Where workflows of the allow-list live: the environment's namespace first, then every other one named. */
const targetsOf = (routes: Routes): TemporalTarget[] => {
  const targets = new Map<string, TemporalTarget>([['', {}]]);
  for (const { target } of routes.workflows.values()) {
    if (!targets.has(targetKey(target))) targets.set(targetKey(target), target);
  }
  return [...targets.values()];
};

const startedByOf = (memo: Record<string, unknown> | undefined): WorkflowStatus['startedBy'] => {
  const value = memo?.[STARTED_BY_MEMO] as { route?: unknown; action?: unknown } | undefined;
  return typeof value?.route === 'string' && typeof value.action === 'string'
    ? { route: value.route, action: value.action }
    : undefined;
};

/**
 * A status as Temporal's API and UI spell it: the TypeScript SDK says CANCELLED where the API says
 * CANCELED, which is what `Prefer: wait` answers too.
 */
const statusName = (name: string): string => (name === 'CANCELLED' ? 'CANCELED' : name);

/**
 * The latest run of a workflow, with its result or failure once closed, from the first namespace of
 * the routes file that has it. Only workflows of an allow-listed type, in that type's namespace, are
 * shown, and only to the caller that started them (see `visibleTo`): to anyone else, and for any other
 * workflow of the namespace, the endpoint answers as for an unknown ID, so it reveals no ID.
 */
export const workflowStatus = async (
  routes: Routes,
  workflowId: string,
  deadline: number,
  scope: string | undefined,
): Promise<WorkflowStatus> => {
  const unknown = new WorkflowNotFoundError(`No workflow ${workflowId}`);
  for (const target of targetsOf(routes)) {
    let description: WorkflowExecutionDescription;
    try {
      description = await callTemporal(target, deadline, ({ client }) =>
        client.workflow.getHandle(workflowId).describe(),
      );
    } catch (error) {
      if (error instanceof SdkNotFound) continue;
      throw fromTemporalError(error, { workflowId });
    }
    const allowed = routes.workflows.get(description.type);
    if (
      allowed === undefined ||
      targetKey(allowed.target) !== targetKey(target) ||
      !visibleTo(description.memo, scope)
    ) {
      throw unknown;
    }
    const { runId, type, status, startTime, closeTime, memo } = description;
    let outcome: Outcome | undefined;
    if (status.name !== 'RUNNING' && status.name !== 'CONTINUED_AS_NEW') {
      try {
        outcome = await callTemporal(target, deadline, (temporal) => outcomeOf(temporal, workflowId, runId));
      } catch (error) {
        throw fromTemporalError(error, { workflowId });
      }
    }
    const startedBy = startedByOf(memo);
    return {
      workflowId,
      runId,
      workflowType: type,
      status: statusName(status.name),
      startTime: startTime.toISOString(),
      closeTime: closeTime?.toISOString() ?? null,
      ...(outcome?.status === 'COMPLETED' && { result: outcome.result }),
      ...(outcome !== undefined && 'failure' in outcome && { failure: outcome.failure }),
      ...(startedBy !== undefined && { startedBy }),
    };
  }
  throw unknown;
};
