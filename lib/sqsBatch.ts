import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import pLimit from 'p-limit';
import { performEventAction } from '#lib/actions.ts';
import { config } from '#lib/config.ts';
import { DeadlineExceededError } from '#lib/errors.ts';
import { logFailure } from '#lib/failure.ts';
import { logger } from '#lib/logger.ts';
import { normalizeSqsRecord } from '#lib/normalize/sqs.ts';
import type { Routes } from '#lib/routes/model.ts';

const isFifo = (event: SQSEvent): boolean => event.Records[0]?.eventSourceARN.endsWith('.fifo') ?? false;

/**
 * Performs the action of every record of a batch and reports the records that failed, as Lambda's
 * partial batch response: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 *
 * - Standard queues: records start concurrently, at most SQS_CONCURRENCY at a time. Powertools starts
 *   them all at once and has no bound of its own, hence p-limit around the record handler.
 * - FIFO queues: records start one at a time in order. When one fails, it and every later record of
 *   its message group are reported, and those are never started; other groups go on.
 * - A record whose turn comes with less than MIN_START_TIME_MS left before the deadline is not
 *   started but reported, so it is retried rather than lost when the invocation times out.
 *
 * Processors are made per batch: their state must not be shared by invocations that overlap.
 * `perform` is replaceable so the unit tests can observe ordering and concurrency.
 */
export const processSqsBatch = async (
  routes: Routes,
  event: SQSEvent,
  context: Context,
  perform: typeof performEventAction = performEventAction,
): Promise<SQSBatchResponse> => {
  const { sqsConcurrency, deadlineMarginMs, minStartTimeMs } = config();
  const attempted = new Set<string>();

  const startRecord = async (record: SQSRecord): Promise<void> => {
    attempted.add(record.messageId);
    try {
      if (context.getRemainingTimeInMillis() - deadlineMarginMs < minStartTimeMs) {
        throw new DeadlineExceededError('Not started: too little time left in the invocation');
      }
      await perform(normalizeSqsRecord(routes, record), context);
    } catch (error) {
      logFailure(error, record.messageId);
      throw error;
    }
  };

  let response: SQSBatchResponse;
  if (isFifo(event)) {
    response = await processPartialResponse(event, startRecord, new SqsFifoPartialProcessorAsync(), {
      context,
      skipGroupOnError: true,
      throwOnFullBatchFailure: false,
    });
  } else {
    const limit = pLimit(sqsConcurrency);
    const limited = (record: SQSRecord) => limit(() => startRecord(record));
    response = await processPartialResponse(event, limited, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
  }

  const skipped = response.batchItemFailures
    .map(({ itemIdentifier }) => itemIdentifier)
    .filter((messageId) => !attempted.has(messageId));
  if (skipped.length > 0) {
    logger.warn('Messages not started: an earlier message of their group failed; they will be retried', {
      messageIds: skipped,
    });
  }
  return response;
};
