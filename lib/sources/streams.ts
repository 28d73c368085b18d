import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import type { performEventAction } from '#lib/actions.ts';
import { ShardBlockedError, ValidationError } from '#lib/errors.ts';
import { logger } from '#lib/logger.ts';
import { countBatch } from '#lib/metrics.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import type { Routes } from '#lib/routes/model.ts';
import { normalizeDynamoDbRecord } from './dynamodb.ts';
import { actOnEvent } from './event.ts';
import { kinesisShardId, normalizeKinesisRecord } from './kinesis.ts';
import { streamEventId } from './streamRecord.ts';

/*
 * The stream sources, Kinesis Data Streams and DynamoDB Streams: a batch of records in, each record a
 * request, and Lambda's partial batch response by sequence number out.
 */

export type StreamEvent = KinesisStreamEvent | DynamoDBStreamEvent;
export type StreamBatchResponse = KinesisStreamBatchResponse | DynamoDBBatchResponse;

/** How each source names a record, its shard, and its request. */
interface StreamSource<R> {
  readonly eventSource: string;
  readonly eventType: keyof typeof EventType;
  readonly sequenceNumber: (record: R) => string;
  /** What records of one shard share. DynamoDB's records do not name their shard: the stream is the bound. */
  readonly shard: (record: R) => string;
  readonly normalize: (routes: Routes, record: R) => WorkflowRequest;
}

const KINESIS: StreamSource<KinesisStreamRecord> = {
  eventSource: 'aws:kinesis',
  eventType: EventType.KinesisDataStreams,
  sequenceNumber: (record) => record.kinesis.sequenceNumber,
  shard: (record) => `${record.eventSourceARN}/${kinesisShardId(record)}`,
  normalize: normalizeKinesisRecord,
};

const DYNAMODB: StreamSource<DynamoDBRecord> = {
  eventSource: 'aws:dynamodb',
  eventType: EventType.DynamoDBStreams,
  sequenceNumber: (record) => record.dynamodb?.SequenceNumber ?? '',
  shard: (record) => record.eventSourceARN ?? '',
  normalize: normalizeDynamoDbRecord,
};

const SOURCES = [KINESIS, DYNAMODB] as const;

const sourceOf = (event: StreamEvent): StreamSource<KinesisStreamRecord | DynamoDBRecord> => {
  const eventSource = event.Records[0]?.eventSource;
  const source = SOURCES.find((candidate) => candidate.eventSource === eventSource);
  if (source === undefined) {
    throw new ValidationError(`Not a Kinesis or DynamoDB stream batch (eventSource ${String(eventSource)})`);
  }
  return source as StreamSource<KinesisStreamRecord | DynamoDBRecord>;
};

/**
 * Performs the action of every record of a Kinesis or DynamoDB stream batch, in order, and reports the
 * records that failed by sequence number, as Lambda's partial batch response:
 * https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
 *
 * - Records start one at a time, in the batch's order (Powertools' processInParallel: false). Lambda
 *   sends one shard per invocation, so there is nothing to run beside it.
 * - When a record fails, it and every later record of its shard are reported, and those are never
 *   started: Lambda retries the shard from the lowest sequence number reported, so a later record
 *   started now would start again, out of order. Other shards' records go on.
 * - A record whose turn comes with less than MIN_START_TIME_MS left before the deadline is not started
 *   but reported (actOnEvent), and with it the rest of its shard.
 * - A batch from any other source fails whole: it is not for this function.
 *
 * `perform` is replaceable so the unit tests can observe the order.
 */
export const processStreamBatch = async (
  routes: Routes,
  event: StreamEvent,
  context: Context,
  perform?: typeof performEventAction,
): Promise<StreamBatchResponse> => {
  if (event.Records.length === 0) return { batchItemFailures: [] };
  const source = sourceOf(event);
  const failedShards = new Set<string>();
  const skipped: string[] = [];

  const normalize = (record: KinesisStreamRecord | DynamoDBRecord): WorkflowRequest => {
    if (record.eventSource !== source.eventSource) {
      throw new ValidationError(`A ${String(record.eventSource)} record in a ${source.eventSource} batch`);
    }
    return source.normalize(routes, record);
  };

  const startRecord = async (record: KinesisStreamRecord | DynamoDBRecord): Promise<void> => {
    const shard = source.shard(record);
    if (failedShards.has(shard)) {
      skipped.push(source.sequenceNumber(record));
      throw new ShardBlockedError(`An earlier record of shard ${shard} failed`);
    }
    try {
      await actOnEvent(streamEventId(record), () => normalize(record), context, perform);
    } catch (error) {
      failedShards.add(shard);
      throw error;
    }
  };

  const response = await processPartialResponse(
    event,
    startRecord,
    new BatchProcessor(EventType[source.eventType]),
    { context, processInParallel: false, throwOnFullBatchFailure: false },
  );

  countBatch(event.Records.length, response.batchItemFailures.length);
  if (skipped.length > 0) {
    logger.warn('Records not started: an earlier record of their shard failed; they will be retried', {
      sequenceNumbers: skipped,
    });
  }
  return response;
};
