import type { IdConflictPolicy, IdReusePolicy } from '#lib/routes/schema.ts';

/** Everything needed to start one workflow: the output of normalization, the input of `startWorkflow`. */
export interface StartRequest {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly taskQueue: string;
  /** The workflow's single argument; `undefined` starts it with no arguments. */
  readonly input: unknown;
  readonly idReusePolicy: IdReusePolicy;
  readonly idConflictPolicy: IdConflictPolicy;
  /** The route that matched, or `canonical` for the envelope. For logs. */
  readonly route: string;
  /**
   * The event's own identity where AWS keeps it across redeliveries (SQS message ID, EventBridge event
   * ID). It makes the start request idempotent on the server, whatever the ID reuse policy.
   */
  readonly eventId?: string;
  /** The authenticated caller's scope (see callerScope.ts), kept in the workflow's memo. */
  readonly scope?: string;
}
