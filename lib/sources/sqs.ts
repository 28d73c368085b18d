import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import pLimit from 'p-limit';
import type { performEventAction } from '#lib/actions.ts';
import { config } from '#lib/config.ts';
import { parseJson } from '#lib/encoding.ts';
import { NoRouteError } from '#lib/errors.ts';
import { logger } from '#lib/logger.ts';
import { countBatch } from '#lib/metrics.ts';
import { fromEnvelope, fromRoute, withEventId } from '#lib/normalize/resolve.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { attributeConditions, type ConditionsOf, condition, firstMatch } from '#lib/routes/conditions.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import { fromXrayHeader } from '#lib/trace/context.ts';
import { actOnEvent } from './event.ts';

/*
 * The SQS source: a batch of records in, each record a request (its route, or the canonical envelope
 * in message attributes), and Lambda's partial batch response out.
 */

/** `arn:aws:sqs:us-east-1:123456789012:orders` → `orders` */
const queueName = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);

const stringAttributes = (record: Pick<SQSRecord, 'messageAttributes'>): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(record.messageAttributes ?? {})) {
    if (attribute.stringValue !== undefined) result[name] = attribute.stringValue;
  }
  return result;
};

/** What an SQS route asks of a record: its queue, and each message attribute it names, with that value. */
export const sqsConditions = (
  record: Pick<SQSRecord, 'eventSourceARN' | 'messageAttributes'>,
): ConditionsOf<Route> => {
  const queue = queueName(record.eventSourceARN);
  const attributes = stringAttributes(record);
  return ({ sqs }) => [
    condition('queue', sqs?.queue, queue),
    ...attributeConditions(sqs?.attributes, attributes),
  ];
};

const normalizeRecord = (routes: Routes, record: SQSRecord): WorkflowRequest => {
  const queue = queueName(record.eventSourceARN);
  const attributes = stringAttributes(record);
  const route = firstMatch(routes.sqs, sqsConditions(record));
  const { messageId } = record;
  const body = parseJson(record.body, `The body of message ${messageId}`);
  if (route !== undefined) {
    const groupId = record.attributes.MessageGroupId;
    const context = { body, attributes, messageId, queue, ...(groupId && { groupId }) };
    const sentAt = Number(record.attributes.SentTimestamp) || undefined;
    return fromRoute(routes, route, context, { name: 'message ID', value: messageId }, sentAt);
  }
  if (attributes.workflowType === undefined) {
    throw new NoRouteError(`No route for queue "${queue}" and no workflowType message attribute`);
  }
  return fromEnvelope(
    routes,
    { workflowType: attributes.workflowType, workflowId: attributes.workflowId, input: body },
    { name: 'message ID', value: messageId },
  );
};

/**
 * Builds the start request for one SQS record: the first route whose queue and attributes match,
 * else the canonical envelope (message attribute `workflowType`, optional `workflowId`).
 */
export const normalizeSqsRecord = (routes: Routes, record: SQSRecord): WorkflowRequest => {
  const request = withEventId(normalizeRecord(routes, record), record.messageId);
  const trace = fromXrayHeader(record.attributes.AWSTraceHeader);
  return trace === undefined ? request : { ...request, trace };
};

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
  perform?: typeof performEventAction,
): Promise<SQSBatchResponse> => {
  const { sqsConcurrency } = config();
  const attempted = new Set<string>();

  const startRecord = async (record: SQSRecord): Promise<void> => {
    attempted.add(record.messageId);
    await actOnEvent(record.messageId, () => normalizeSqsRecord(routes, record), context, perform);
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

  countBatch(event.Records.length, response.batchItemFailures.length);
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
