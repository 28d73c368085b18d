import type { KinesisStreamRecord } from 'aws-lambda';
import { parseJson } from '#lib/encoding.ts';
import { NoRouteError } from '#lib/errors.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { type ConditionsOf, condition, firstMatch } from '#lib/routes/conditions.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import { fromStreamRecord, secondsToMs } from './streamRecord.ts';

/*
 * The Kinesis Data Streams source, one record: its route by stream name, its data as JSON.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
 */

/** `arn:aws:kinesis:us-east-2:123456789012:stream/orders` → `orders` */
const streamName = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

/** What a Kinesis route asks of a record: its stream. */
export const kinesisConditions = (
  record: Pick<KinesisStreamRecord, 'eventSourceARN'>,
): ConditionsOf<Route> => {
  const stream = streamName(record.eventSourceARN);
  return ({ kinesis }) => [condition('stream', kinesis?.stream, stream)];
};

/** `shardId-000000000006:4959…` → `shardId-000000000006`: Lambda's event ID names the record's shard. */
export const kinesisShardId = (record: KinesisStreamRecord): string => {
  const colon = record.eventID.indexOf(':');
  return colon > 0 ? record.eventID.slice(0, colon) : '';
};

/**
 * Builds the start request for one Kinesis record: the first route of its stream. Without a workflow ID
 * template the workflow is `<workflowType>-<stream>-<shardId>-<sequenceNumber>`: a record keeps its shard
 * and sequence number across redeliveries, and a sequence number is unique within its shard only.
 */
export const normalizeKinesisRecord = (routes: Routes, record: KinesisStreamRecord): WorkflowRequest => {
  const stream = streamName(record.eventSourceARN);
  const route = firstMatch(routes.kinesis, kinesisConditions(record));
  if (route === undefined) throw new NoRouteError(`No route for Kinesis stream "${stream}"`);
  const { partitionKey, sequenceNumber, approximateArrivalTimestamp } = record.kinesis;
  const shardId = kinesisShardId(record);
  const arrivedAt = secondsToMs(approximateArrivalTimestamp);
  const context = {
    // A record's data is base64 of JSON; any other data is a permanent failure.
    data: parseJson(
      Buffer.from(record.kinesis.data, 'base64').toString('utf8'),
      `The data of Kinesis record ${sequenceNumber}`,
    ),
    partitionKey,
    sequenceNumber,
    stream,
    ...(shardId !== '' && { shardId }),
    ...(arrivedAt !== undefined && { arrivalTime: new Date(arrivedAt).toISOString() }),
  };
  const identity = { name: 'sequence number', value: `${stream}-${shardId || 'shard'}-${sequenceNumber}` };
  return fromStreamRecord(routes, route, context, identity, record, approximateArrivalTimestamp);
};
