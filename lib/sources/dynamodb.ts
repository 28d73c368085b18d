import type { DynamoDBRecord } from 'aws-lambda';
import { NoRouteError, ValidationError } from '#lib/errors.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { type ConditionsOf, condition, firstMatch } from '#lib/routes/conditions.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import { type AttributeValue, unmarshall } from './dynamodbJson.ts';
import { fromStreamRecord } from './streamRecord.ts';

/*
 * The DynamoDB Streams source, one change record: its route by table and event name, its keys and
 * images as plain JSON. https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */

/** `arn:aws:dynamodb:us-west-2:123456789012:table/orders/stream/2015-06-27T00:48:05.899` → `orders` */
const tableName = (arn: string): string => arn.split('/')[1] ?? '';

/** What a DynamoDB route asks of a record: its table and, where the route names them, its event names. */
export const dynamoDbConditions = (
  record: Pick<DynamoDBRecord, 'eventSourceARN' | 'eventName'>,
): ConditionsOf<Route> => {
  const table = tableName(record.eventSourceARN ?? '');
  const { eventName } = record;
  return ({ dynamodb }) => {
    const conditions = [condition('table', dynamodb?.table, table)];
    if (dynamodb?.eventName !== undefined) {
      const names: readonly string[] = [dynamodb.eventName].flat();
      const taken = eventName !== undefined && names.includes(eventName);
      conditions.push(condition('event', dynamodb.eventName, eventName, taken));
    }
    return conditions;
  };
};

const plain = (image: Readonly<Record<string, AttributeValue>> | undefined) =>
  image === undefined ? undefined : unmarshall(image);

/**
 * Builds the start request for one DynamoDB stream record: the first route of its table that takes its
 * event name. Without a workflow ID template the workflow is `<workflowType>-<eventID>`: the event ID
 * is unique per stream record and the same on every redelivery of it.
 */
export const normalizeDynamoDbRecord = (routes: Routes, record: DynamoDBRecord): WorkflowRequest => {
  const table = tableName(record.eventSourceARN ?? '');
  const { eventName, eventID: eventId } = record;
  const route = firstMatch(routes.dynamodb, dynamoDbConditions(record));
  if (route === undefined) {
    throw new NoRouteError(`No route for ${eventName ?? 'a change'} of DynamoDB table "${table}"`);
  }
  const change = record.dynamodb ?? {};
  const context = {
    keys: plain(change.Keys),
    newImage: plain(change.NewImage),
    oldImage: plain(change.OldImage),
    eventName,
    eventId,
    table,
    sequenceNumber: change.SequenceNumber,
  };
  if (eventId === undefined)
    throw new ValidationError(`A record of DynamoDB table "${table}" without its eventID`);
  return fromStreamRecord(
    routes,
    route,
    context,
    { name: 'event ID', value: eventId },
    record,
    change.ApproximateCreationDateTime,
  );
};
