import { createHash } from 'node:crypto';

/**
 * A short, stable name for an authenticated caller (`iam:<arn>` or `jwt:<issuer>|<sub>`): it scopes the
 * workflow IDs that caller's Idempotency-Keys name, and is kept in the workflow's memo, so that the
 * status endpoint and `Prefer: wait` show a workflow only to the caller that started it. A digest, so
 * that neither an ARN nor a subject ends up in workflow IDs.
 */
export const callerScope = (caller: string): string =>
  createHash('sha256').update(caller).digest('hex').slice(0, 16);

/** The memo field that holds the scope of the caller that started a workflow. */
export const CALLER_SCOPE_MEMO = 'triggers.callerScope';

/** The memo field that says which route and action started a workflow: the status endpoint shows it. */
export const STARTED_BY_MEMO = 'triggers.startedBy';

/**
 * The memo field of a workflow started by an HTTP request with an Idempotency-Key: the key (scoped to
 * the caller) and the request's fingerprint, compared when the key is sent again.
 */
export const IDEMPOTENCY_MEMO = 'triggers.idempotency';
