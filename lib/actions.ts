import { createHash, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import {
  type Client,
  WithStartWorkflowOperation,
  type WorkflowHandle,
  type WorkflowStartOptions,
  WorkflowUpdateFailedError,
  type WorkflowUpdateHandle,
  WorkflowUpdateStage,
} from '@temporalio/client';
import {
  defineSearchAttributeKey,
  WorkflowNotFoundError as SdkNotFound,
  type SearchAttributePair,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Context } from 'aws-lambda';
import { deadlineFrom } from '#lib/deadline.ts';
import {
  IdempotencyKeyReusedError,
  UpdateRejectedError,
  WorkflowClosedError,
  WorkflowConflictError,
  WorkflowNotFoundError,
  WorkflowNotStartedError,
} from '#lib/errors.ts';
import { logger } from '#lib/logger.ts';
import { countAction } from '#lib/metrics.ts';
import { CALLER_SCOPE_MEMO, IDEMPOTENCY_MEMO, STARTED_BY_MEMO } from '#lib/normalize/callerScope.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import type { Action } from '#lib/routes/schema.ts';
import { callTemporal } from '#lib/temporal/call.ts';
import { fromTemporalError, grpcCodeOf } from '#lib/temporal/errors.ts';
import { withTrace } from '#lib/temporal/trace.ts';
import { onWire, type WireCall } from '#lib/temporal/wire.ts';
import { fromLambdaTrace } from '#lib/trace/context.ts';

/** How an update stands when the answer is given. */
export interface UpdateOutcome {
  readonly id: string;
  readonly name: string;
  /** ACCEPTED: running in the workflow; COMPLETED or FAILED: done, with its result or failure. */
  readonly status: 'ACCEPTED' | 'COMPLETED' | 'FAILED';
  readonly result?: unknown;
  readonly failure?: { readonly message: string };
}

/** What an action did. */
export interface WorkflowResult {
  readonly action: Action;
  readonly workflowId: string;
  /** The run acted on; unknown after a plain signal, which the server answers without it. */
  readonly runId?: string;
  readonly workflowType: string;
  /** The task queue of a run this request may have started. */
  readonly taskQueue?: string;
  readonly namespace: string;
  /** Whether this request started a run: false for a duplicate, or when it signalled or updated one. */
  readonly started: boolean;
  /** The signal delivered (signal, signalWithStart). */
  readonly signal?: string;
  /** The update (update, updateWithStart). */
  readonly update?: UpdateOutcome;
}

/** The SDK's hidden per-call options (`@temporalio/client`'s internal.ts): the request IDs it lets a caller set. */
const START_INTERNALS = Symbol.for('__temporal_internal_client_workflow_start_options');
const UPDATE_INTERNALS = Symbol.for('__temporal_internal_client_workflow_update_options');

const uuidFrom = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;

/**
 * An ID derived from the event's identity for one purpose (`start`, `signal`, `update`): the same event
 * delivered again gives the same ID, so the server recognises the request, signal or update it already
 * has. An Idempotency-Key counts for signals and updates (see WorkflowRequest.idempotencyKey). Without
 * an identity, a fresh one.
 */
const derivedId = (request: WorkflowRequest, namespace: string, purpose: string): string => {
  const identity = purpose === 'start' ? request.eventId : (request.eventId ?? request.idempotencyKey);
  if (identity === undefined) return randomUUID();
  // A start's is derived as it always was, so a message redelivered across an upgrade keeps its ID.
  const suffix = purpose === 'start' ? '' : `\0${purpose}`;
  const hex = createHash('sha256')
    .update(`${namespace}\0${request.workflowId}\0${identity}${suffix}`)
    .digest('hex');
  return uuidFrom(hex);
};

/** The request's start options as the SDK takes them, with the request ID of the start. */
const startOptionsOf = (request: WorkflowRequest, requestId: string): WorkflowStartOptions => {
  const { options, scope } = request;
  const memo = {
    ...options.memo,
    [STARTED_BY_MEMO]: { route: request.route, action: request.action },
    ...(scope !== undefined && { [CALLER_SCOPE_MEMO]: scope }),
    ...(request.idempotency !== undefined && {
      [IDEMPOTENCY_MEMO]: { key: request.idempotencyKey, fingerprint: request.idempotency.fingerprint },
    }),
  };
  const typedSearchAttributes = options.searchAttributes?.map(
    ({ name, type, value }) => ({ key: defineSearchAttributeKey(name, type), value }) as SearchAttributePair,
  );
  return {
    taskQueue: request.taskQueue,
    workflowId: request.workflowId,
    args: request.input === undefined ? [] : [request.input],
    workflowIdReusePolicy: request.idReusePolicy,
    workflowIdConflictPolicy: request.idConflictPolicy,
    memo,
    ...(typedSearchAttributes !== undefined && { typedSearchAttributes }),
    ...(options.startDelay !== undefined && { startDelay: options.startDelay }),
    ...(options.executionTimeout !== undefined && { workflowExecutionTimeout: options.executionTimeout }),
    ...(options.runTimeout !== undefined && { workflowRunTimeout: options.runTimeout }),
    ...(options.taskTimeout !== undefined && { workflowTaskTimeout: options.taskTimeout }),
    ...(options.retry !== undefined && { retry: options.retry }),
    ...(options.priority !== undefined && { priority: options.priority }),
    ...(options.staticSummary !== undefined && { staticSummary: options.staticSummary }),
    ...(options.staticDetails !== undefined && { staticDetails: options.staticDetails }),
    [START_INTERNALS]: { requestId },
  } as WorkflowStartOptions;
};

/** A failed update's message: the failure its handler or validator threw. */
const failureMessage = (error: WorkflowUpdateFailedError): string => error.cause?.message || error.message;

/**
 * Waits for an accepted update to complete, until `deadline`. The long poll running out, or Temporal
 * not answering, leaves it ACCEPTED: the update was delivered, and the answer says so rather than fail.
 */
const awaitUpdate = async (
  request: WorkflowRequest,
  result: Omit<WorkflowResult, 'action'>,
  deadline: number | undefined,
): Promise<Omit<WorkflowResult, 'action'>> => {
  const accepted = result.update;
  if (
    accepted === undefined ||
    accepted.status !== 'ACCEPTED' ||
    deadline === undefined ||
    deadline <= Date.now()
  ) {
    return result;
  }
  try {
    const outcome = await callTemporal(request.target, deadline, ({ client }) =>
      client.workflow.getHandle(result.workflowId, result.runId).getUpdateHandle(accepted.id).result(),
    );
    return { ...result, update: { ...accepted, status: 'COMPLETED', result: outcome } };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      return {
        ...result,
        update: { ...accepted, status: 'FAILED', failure: { message: failureMessage(error) } },
      };
    }
    const failure = fromTemporalError(error, request);
    if (failure.permanent) throw failure;
    if (Date.now() < deadline - 50) {
      logger.warn('Cannot wait for the update to complete; answering that it was accepted', {
        workflowId: result.workflowId,
        updateId: accepted.id,
        reason: failure.name,
      });
    }
    return result;
  }
};

/** An update answered with its failure before it was accepted: the validator refused it. */
const rejectedOrAccepted = async (
  handle: WorkflowUpdateHandle<unknown>,
  wire: WireCall,
  request: WorkflowRequest,
): Promise<void> => {
  if (wire.updateSettled !== 'failed') return;
  const reason = await handle.result().then(
    () => 'no reason given',
    (error: unknown) =>
      error instanceof WorkflowUpdateFailedError ? failureMessage(error) : 'no reason given',
  );
  throw new UpdateRejectedError(
    `Workflow ${request.workflowId} rejected the update ${request.update?.name}: ${reason}`,
  );
};

/** The IDs of one request: fixed before its first attempt, so a retried attempt sends the same. */
interface Ids {
  readonly start: string;
  readonly signal: string;
  readonly update: string;
  readonly updateRequest: string;
}

/** The IDs a request's action uses, each derived at its first use only: a start derives one. */
const idsOf = (request: WorkflowRequest, namespace: string): Ids => {
  const derived = new Map<string, string>();
  const id = (purpose: string): string => {
    let value = derived.get(purpose);
    if (value === undefined) {
      value = derivedId(request, namespace, purpose);
      derived.set(purpose, value);
    }
    return value;
  };
  return {
    get start() {
      return id('start');
    },
    get signal() {
      return id('signal');
    },
    get update() {
      return id('update');
    },
    get updateRequest() {
      return id('update-request');
    },
  };
};

/** What an action did, and the memo of the run it found, where it had to read it. */
type Performed = Omit<WorkflowResult, 'action'> & { readonly memo?: Readonly<Record<string, unknown>> };

type Perform = (client: Client, namespace: string, wire: WireCall, ids: Ids) => Promise<Performed>;

/**
 * The closed-workflow case of a start. Under REJECT_DUPLICATE the server refuses a start whose ID
 * names a closed workflow: for `start` that is a duplicate, reported as the existing run; for
 * signalWithStart and updateWithStart the signal or update could not be delivered.
 */
const existingRun = async (client: Client, request: WorkflowRequest, namespace: string) => {
  const { workflowId, workflowType, taskQueue, idConflictPolicy, action } = request;
  const existing = await client.workflow.getHandle(workflowId).describe();
  const running = existing.status.name === 'RUNNING';
  if (running && idConflictPolicy === 'FAIL') {
    throw new WorkflowConflictError(
      `Workflow ${workflowId} is running, and the conflict policy of ${workflowType} is FAIL`,
    );
  }
  if (action !== 'start' && !running) {
    throw new WorkflowClosedError(
      `Workflow ${workflowId} is closed (${existing.status.name}), and the ID reuse policy of ${workflowType} allows no new run: the ${action === 'signalWithStart' ? 'signal' : 'update'} was not delivered`,
    );
  }
  return {
    workflowId,
    workflowType,
    taskQueue,
    namespace,
    runId: existing.runId,
    started: false,
    memo: existing.memo ?? {},
  };
};

const STARTED_EVENT = proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED;

/**
 * Whether a SignalWithStart or an update-with-start started the run it acted on. The answer says so,
 * except for a request sent more than once (its first answer lost, see `callTemporal`): the server
 * answers the second send `started: false`, also when the first one started the run. The run then
 * tells, as it lists the request IDs it took and what each did (DescribeWorkflowExecution's request
 * ID infos); a server too old to list them, or a describe that fails, leaves the answer's `false`.
 */
const startedBy = async (
  client: Client,
  wire: WireCall,
  run: { readonly workflowId: string; readonly runId?: string },
  requestId: string,
): Promise<boolean> => {
  if (wire.started !== false || (wire.sends ?? 0) < 2) return wire.started ?? false;
  try {
    const { raw } = await client.workflow.getHandle(run.workflowId, run.runId).describe();
    return raw.workflowExtendedInfo?.requestIdInfos?.[requestId]?.eventType === STARTED_EVENT;
  } catch (error) {
    logger.warn(
      'Cannot tell whether the request sent again started the workflow; reporting that it did not',
      {
        workflowId: run.workflowId,
        reason: error instanceof Error ? error.message : String(error),
      },
    );
    return false;
  }
};

const PERFORM: Readonly<Record<Action, (request: WorkflowRequest) => Perform>> = {
  start: (request) => async (client, namespace, wire, ids) => {
    const handle = await client.workflow.start(request.workflowType, startOptionsOf(request, ids.start));
    return {
      workflowId: request.workflowId,
      workflowType: request.workflowType,
      taskQueue: request.taskQueue,
      namespace,
      runId: handle.firstExecutionRunId,
      started: wire.started ?? true,
    };
  },
  signalWithStart: (request) => async (client, namespace, wire, ids) => {
    const signal = request.signal as NonNullable<WorkflowRequest['signal']>;
    // The request ID, one for the start and the signal, is set on the wire (ids.signal).
    const handle = await client.workflow.signalWithStart(request.workflowType, {
      ...startOptionsOf(request, ids.signal),
      signal: signal.name,
      signalArgs: [...signal.args],
    });
    return {
      workflowId: request.workflowId,
      workflowType: request.workflowType,
      taskQueue: request.taskQueue,
      namespace,
      runId: handle.signaledRunId,
      started: await startedBy(
        client,
        wire,
        { workflowId: request.workflowId, runId: handle.signaledRunId },
        ids.signal,
      ),
      signal: signal.name,
    };
  },
  updateWithStart: (request) => async (client, namespace, wire, ids) => {
    const update = request.update as NonNullable<WorkflowRequest['update']>;
    const operation = new WithStartWorkflowOperation(request.workflowType, {
      ...startOptionsOf(request, ids.start),
      workflowIdConflictPolicy: request.idConflictPolicy,
    });
    const handle = await client.workflow.startUpdateWithStart(update.name, {
      args: [...update.args],
      updateId: ids.update,
      waitForStage: WorkflowUpdateStage.ACCEPTED,
      startWorkflowOperation: operation,
      [UPDATE_INTERNALS]: { requestId: ids.updateRequest },
    } as Parameters<Client['workflow']['startUpdateWithStart']>[1]);
    await rejectedOrAccepted(handle, wire, request);
    return {
      workflowId: request.workflowId,
      workflowType: request.workflowType,
      taskQueue: request.taskQueue,
      namespace,
      runId: handle.workflowRunId,
      started: await startedBy(
        client,
        wire,
        { workflowId: request.workflowId, runId: handle.workflowRunId },
        ids.start,
      ),
      update: { id: handle.updateId, name: update.name, status: 'ACCEPTED' },
    };
  },
  signal: (request) => async (client, namespace) => {
    const signal = request.signal as NonNullable<WorkflowRequest['signal']>;
    await client.workflow.getHandle(request.workflowId).signal(signal.name, ...signal.args);
    return {
      workflowId: request.workflowId,
      workflowType: request.workflowType,
      namespace,
      started: false,
      signal: signal.name,
    };
  },
  update: (request) => async (client, namespace, wire, ids) => {
    const update = request.update as NonNullable<WorkflowRequest['update']>;
    const workflow: WorkflowHandle = client.workflow.getHandle(request.workflowId);
    const handle = await workflow.startUpdate(update.name, {
      args: [...update.args],
      updateId: ids.update,
      waitForStage: WorkflowUpdateStage.ACCEPTED,
      [UPDATE_INTERNALS]: { requestId: ids.updateRequest },
    } as unknown as Parameters<WorkflowHandle['startUpdate']>[1]);
    await rejectedOrAccepted(handle, wire, request);
    return {
      workflowId: request.workflowId,
      workflowType: request.workflowType,
      namespace,
      runId: handle.workflowRunId,
      started: false,
      update: { id: handle.updateId, name: update.name, status: 'ACCEPTED' },
    };
  },
};

/** What went wrong, as our error: a duplicate start is an outcome, a missing workflow a 404 or a wait. */
const recovered = async (error: unknown, request: WorkflowRequest, deadline: number): Promise<Performed> => {
  if (error instanceof WorkflowExecutionAlreadyStartedError || grpcCodeOf(error) === status.ALREADY_EXISTS) {
    try {
      return await callTemporal(request.target, deadline, ({ client, namespace }) =>
        existingRun(client, request, namespace),
      );
    } catch (again) {
      throw fromTemporalError(again, request);
    }
  }
  if (error instanceof SdkNotFound) {
    const until = request.missingWorkflowRetryUntil;
    const message = `No workflow ${request.workflowId} to ${request.action}`;
    if (until !== undefined && Date.now() < until) {
      throw new WorkflowNotStartedError(`${message} yet; retried until ${new Date(until).toISOString()}`);
    }
    throw new WorkflowNotFoundError(message);
  }
  throw fromTemporalError(error, request);
};

/**
 * A start that found its workflow already there, asked with an Idempotency-Key: the run must have been
 * started by the same request under the same key, or the key was reused for another request (IETF
 * httpapi Idempotency-Key draft: 422). Only duplicates pay for the check: the memo the closed-workflow
 * case read already, else one describe. A run started without the key, or under another, is a plain
 * duplicate of the workflow ID.
 */
const checkIdempotencyKey = async (
  request: WorkflowRequest,
  performed: Performed,
  deadline: number,
): Promise<void> => {
  if (request.idempotency === undefined || request.action !== 'start' || performed.started) return;
  let memo = performed.memo;
  if (memo === undefined) {
    try {
      const { workflowId, runId } = performed;
      memo = await callTemporal(request.target, deadline, async ({ client }) => {
        return (await client.workflow.getHandle(workflowId, runId).describe()).memo;
      });
    } catch (error) {
      throw fromTemporalError(error, request);
    }
  }
  const stored = memo?.[IDEMPOTENCY_MEMO] as { key?: unknown; fingerprint?: unknown } | undefined;
  if (
    stored !== undefined &&
    stored.key === request.idempotencyKey &&
    stored.fingerprint !== request.idempotency.fingerprint
  ) {
    throw new IdempotencyKeyReusedError(request.idempotency.key, performed.workflowId);
  }
};

const MESSAGES: Readonly<Record<Action, readonly [started: string, existing: string]>> = {
  start: ['Workflow started', 'Workflow already exists'],
  signalWithStart: ['Workflow started with a signal', 'Workflow signalled'],
  updateWithStart: ['Workflow started with an update', 'Workflow updated'],
  signal: ['Workflow signalled', 'Workflow signalled'],
  update: ['Workflow updated', 'Workflow updated'],
};

/**
 * Acts on the workflow a request names (start it, signal or update it, or both), through the SDK's
 * client, so the project's data converter, codecs and interceptors apply, and logs what happened.
 * `deadline` bounds the action; `updateDeadline`, when set, how long to wait for an update to complete.
 *
 * Every ID the server deduplicates by (the start's request ID, the signal's request ID, the update ID)
 * is derived from the event's identity: a redelivered event starts one run, delivers one signal and
 * runs one update.
 */
export const performAction = async (
  request: WorkflowRequest,
  deadline: number,
  updateDeadline?: number,
): Promise<WorkflowResult> => {
  const perform = PERFORM[request.action](request);
  const begun = performance.now();
  let ids: Ids | undefined;
  // One per request, across attempts, so that it counts every send (WireCall.sends).
  let wire: WireCall | undefined;
  let performed: Performed;
  try {
    // The event's trace, else the invocation's: the workflow's spans continue it (trace.ts).
    performed = await withTrace(request.trace ?? fromLambdaTrace(), () =>
      callTemporal(request.target, deadline, ({ client, namespace }) => {
        ids ??= idsOf(request, namespace);
        const fixed = ids;
        const signals = request.action === 'signal' || request.action === 'signalWithStart';
        wire ??= signals ? { requestId: fixed.signal } : {};
        const marked = wire;
        // What an earlier attempt's answer said does not stand for this one.
        marked.started = undefined;
        marked.updateSettled = undefined;
        return onWire(marked, () => perform(client, namespace, marked, fixed));
      }),
    );
  } catch (error) {
    performed = await recovered(error, request, deadline);
  }
  await checkIdempotencyKey(request, performed, deadline);
  const { memo: _, ...acted } = performed;
  const latencyMs = Math.round((performance.now() - begun) * 100) / 100;
  const result = await awaitUpdate(request, acted, updateDeadline);
  const { workflowId, runId, workflowType, started, update } = result;
  const [first, again] = MESSAGES[request.action];
  logger.info(started ? first : again, {
    action: request.action,
    workflowId,
    runId,
    workflowType,
    started,
    route: request.route,
    ...(request.eventId && { eventId: request.eventId }),
    ...(update && { updateId: update.id, updateStatus: update.status }),
  });
  const done = { action: request.action, ...result };
  countAction(request, done, latencyMs);
  return done;
};

/**
 * An action for an event from SQS or EventBridge, bounded by the invocation's deadline. An update is
 * awaited until it is accepted, or until it completes when its route asks (`waitFor: completed`).
 */
export const performEventAction = (
  request: WorkflowRequest,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<WorkflowResult> => {
  const deadline = deadlineFrom(context);
  return performAction(request, deadline, request.update?.waitFor === 'completed' ? deadline : undefined);
};
