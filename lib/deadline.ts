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
