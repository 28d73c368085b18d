import type { Context } from 'aws-lambda';
import { config } from '#lib/config.ts';

/**
 * The moment by which a call to Temporal must have answered, in epoch milliseconds: the invocation's
 * remaining time less a margin for answering, and never more than the configured cap per call.
 */
export const deadlineFrom = (context: Pick<Context, 'getRemainingTimeInMillis'>): number => {
  const { deadlineMarginMs, callTimeoutMs } = config();
  return Date.now() + Math.min(context.getRemainingTimeInMillis() - deadlineMarginMs, callTimeoutMs);
};

/** API Gateway's integration timeout: a REST API answers 504 itself after 29 s (an HTTP API after 30 s). */
export const API_GATEWAY_TIMEOUT_S = 29;
const API_GATEWAY_TIMEOUT_MS = API_GATEWAY_TIMEOUT_S * 1000;

/**
 * How long `Prefer: wait=N` may wait for a result, as a deadline in epoch milliseconds: N seconds from
 * now, but never past API Gateway's timeout counted from when the invocation began, nor past the
 * invocation's own remaining time less the margin for answering.
 */
export const waitDeadlineFrom = (
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  seconds: number,
  invokedAt: number,
): number => {
  const { deadlineMarginMs } = config();
  const now = Date.now();
  return Math.min(
    now + seconds * 1000,
    invokedAt + API_GATEWAY_TIMEOUT_MS - deadlineMarginMs,
    now + context.getRemainingTimeInMillis() - deadlineMarginMs,
  );
};

/**
 * middy's options for every function: no early timeout. middy would race each invocation against a
 * timer set 5 ms before Lambda's timeout; every call to Temporal already ends DEADLINE_MARGIN_MS
 * (500 ms by default) before it (`deadlineFrom`), so that timer, set and cleared on every invocation,
 * would only cost CPU.
 */
export const MIDDY_OPTIONS = { timeoutEarlyInMillis: 0 } as const;
