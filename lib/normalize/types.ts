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
}
