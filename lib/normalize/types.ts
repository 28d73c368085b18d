import type {
  Action,
  IdConflictPolicy,
  IdReusePolicy,
  SearchAttributeTypeName,
  StartOptionsSpec,
  UpdateWait,
} from '#lib/routes/schema.ts';
import type { TraceContext } from '#lib/trace/context.ts';

/** A search attribute value, checked and converted to its declared type. */
export interface TypedSearchAttribute {
  readonly name: string;
  readonly type: SearchAttributeTypeName;
  readonly value: string | number | boolean | Date | string[];
}

/** The start options of one request: its type's, with its route's rendered on top. */
export interface StartOptions extends Omit<StartOptionsSpec, 'searchAttributes' | 'memo'> {
  readonly memo?: Readonly<Record<string, unknown>>;
  readonly searchAttributes?: readonly TypedSearchAttribute[];
}

/** Which Temporal a workflow type lives in; unset fields are the environment's (TEMPORAL_*). */
export interface TemporalTarget {
  readonly namespace?: string;
  readonly address?: string;
  readonly secretId?: string;
}

export interface SignalRequest {
  readonly name: string;
  readonly args: readonly unknown[];
}

export interface UpdateRequest extends SignalRequest {
  /** SQS and EventBridge wait for this stage; HTTP waits for completion within its budget. */
  readonly waitFor: UpdateWait;
}

/**
 * Everything needed to act on one workflow for one event: the output of normalization, the input of
 * `performAction`.
 */
export interface WorkflowRequest {
  readonly action: Action;
  readonly workflowType: string;
  readonly workflowId: string;
  readonly taskQueue: string;
  /** The workflow's single argument; `undefined` starts it with no arguments. */
  readonly input: unknown;
  readonly idReusePolicy: IdReusePolicy;
  readonly idConflictPolicy: IdConflictPolicy;
  readonly options: StartOptions;
  readonly target: TemporalTarget;
  /** signal and signalWithStart. */
  readonly signal?: SignalRequest;
  /** update and updateWithStart. */
  readonly update?: UpdateRequest;
  /** The route that matched, or `canonical` for the envelope. For logs. */
  readonly route: string;
  /**
   * The event's own identity where AWS keeps it across redeliveries (SQS message ID, EventBridge event
   * ID, the Idempotency-Key). Request and update IDs are derived from it, so a redelivered event is
   * the same request to the server: one run, one signal, one update, whatever the ID reuse policy.
   */
  readonly eventId?: string;
  /**
   * HTTP: the Idempotency-Key (scoped to the caller). Signal and update IDs derive from it, so a retried
   * request delivers one signal and runs one update. A start keeps a fresh request ID, so that a retry
   * is answered as the duplicate it is (200, `started: false`) and the ID reuse policy decides.
   */
  readonly idempotencyKey?: string;
  /**
   * HTTP: the Idempotency-Key as sent, and the fingerprint of the request that carried it. A start keeps
   * the key (scoped) and the fingerprint in the workflow's memo; a duplicate start under the same key
   * with another fingerprint is a key reused for a different request, refused (422).
   */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
  /** The authenticated caller's scope (see callerScope.ts), kept in the workflow's memo. */
  readonly scope?: string;
  /**
   * signal and update: until when (epoch ms) a missing workflow may still be starting, so that the
   * event is retried rather than failed. Undefined: a missing workflow fails at once (HTTP: 404).
   */
  readonly missingWorkflowRetryUntil?: number;
  /**
   * The trace the event belongs to (an HTTP `traceparent`, SQS's AWSTraceHeader), passed to the
   * workflow in its headers; without one, the invocation's own X-Ray trace when it is sampled.
   */
  readonly trace?: TraceContext;
}
