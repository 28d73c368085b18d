import type { Context } from 'aws-lambda';
import { performEventAction, type WorkflowResult } from '#lib/actions.ts';
import { config } from '#lib/config.ts';
import { DeadlineExceededError } from '#lib/errors.ts';
import { logFailure } from '#lib/failure.ts';
import { countFailure } from '#lib/metrics.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';

/**
 * The step every event source shares for one event (an SQS record, an EventBridge event): build its
 * request, act on it within the invocation's deadline, and on failure log and count it once, with the
 * event's ID and whether a retry can help, then throw for the source to report it as its AWS service
 * expects.
 *
 * An event whose turn comes with less than MIN_START_TIME_MS left before the deadline is not started:
 * it fails as a DeadlineExceededError (transient), so it is retried rather than lost when the
 * invocation times out. `perform` is replaceable so unit tests can observe ordering and concurrency.
 */
export const actOnEvent = async (
  eventId: string,
  build: () => WorkflowRequest,
  context: Context,
  perform: typeof performEventAction = performEventAction,
): Promise<WorkflowResult> => {
  let request: WorkflowRequest | undefined;
  try {
    const { deadlineMarginMs, minStartTimeMs } = config();
    if (context.getRemainingTimeInMillis() - deadlineMarginMs < minStartTimeMs) {
      throw new DeadlineExceededError('Not started: too little time left in the invocation');
    }
    request = build();
    return await perform(request, context);
  } catch (error) {
    logFailure(error, eventId);
    countFailure(error, request ?? {});
    throw error;
  }
};

/**
 * Acts on the events of one asynchronous invocation one after another (an SNS message, S3 records):
 * the first failure is thrown, and a retry of the invocation finds the earlier ones started.
 */
export const actOnEach = async <R>(
  records: readonly R[],
  eventIdOf: (record: R) => string,
  build: (record: R) => WorkflowRequest,
  context: Context,
): Promise<WorkflowResult[]> => {
  const results: WorkflowResult[] = [];
  for (const record of records) {
    results.push(await actOnEvent(eventIdOf(record), () => build(record), context));
  }
  return results;
};
