import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import type { WorkflowResult } from '#lib/actions.ts';
import { decodeUrlComponent } from '#lib/encoding.ts';
import { NoRouteError } from '#lib/errors.ts';
import { logger } from '#lib/logger.ts';
import { fromRoute, withEventId } from '#lib/normalize/resolve.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { type Condition, type ConditionsOf, condition, firstMatch } from '#lib/routes/conditions.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import { actOnEach } from './event.ts';

/*
 * The S3 source: event notifications delivered to the function directly, asynchronously. Each record
 * is a request; a failure is thrown, so Lambda's asynchronous retries, then the function's on-failure
 * destination, apply. (S3 events that come through EventBridge are EventBridge events, routed as such.)
 */

export const isS3Event = (event: unknown): event is S3Event =>
  (event as Partial<S3Event> | undefined)?.Records?.[0]?.eventSource === 'aws:s3';

/** The message S3 sends when a notification configuration is saved: nothing to start. */
export const isS3TestEvent = (event: unknown): boolean =>
  (event as { Service?: unknown; Event?: unknown } | undefined)?.Service === 'Amazon S3' &&
  (event as { Event?: unknown }).Event === 's3:TestEvent';

/** S3 sends object keys URL-encoded, spaces as `+`; a key that does not decode is taken as it came. */
export const decodeKey = decodeUrlComponent;

/** `ObjectCreated:*` matches `ObjectCreated:Put`; `ObjectRemoved:Delete` only itself. */
const eventMatches = (patterns: readonly string[] | undefined, eventName: string): boolean =>
  patterns === undefined ||
  patterns.some((pattern) =>
    pattern.endsWith('*') ? eventName.startsWith(pattern.slice(0, -1)) : eventName === pattern,
  );

/** The key and event name a route's conditions read, of one record. */
type S3Notice = Pick<S3EventRecord, 'eventName'> & {
  readonly s3: { readonly bucket: { readonly name: string }; readonly object: { readonly key: string } };
};

/** What an S3 route asks of a record: its bucket and, where the route names them, key prefix and suffix, and event names. */
export const s3Conditions = (record: S3Notice): ConditionsOf<Route> => {
  const { eventName } = record;
  const bucket = record.s3.bucket.name;
  const key = decodeKey(record.s3.object.key);
  return ({ s3 }) => {
    const conditions: Condition[] = [condition('bucket', s3?.bucket, bucket)];
    if (s3?.prefix !== undefined)
      conditions.push(condition('key prefix', s3.prefix, key, key.startsWith(s3.prefix)));
    if (s3?.suffix !== undefined)
      conditions.push(condition('key suffix', s3.suffix, key, key.endsWith(s3.suffix)));
    if (s3?.events !== undefined)
      conditions.push(condition('event', s3.events, eventName, eventMatches(s3.events, eventName)));
    return conditions;
  };
};

/** What S3 keeps the same on every delivery of one event: the object and its sequencer. */
const identityOf = (bucket: string, key: string, sequencer: string): string =>
  `${bucket}/${key}@${sequencer}`;

/**
 * Builds the request for one S3 record: the first route whose bucket, key prefix and suffix, and event
 * names match. Its identity, for the default workflow ID and the request ID, is the bucket, the key and
 * the sequencer, which orders the events of one key.
 */
export const normalizeS3Record = (routes: Routes, record: S3EventRecord): WorkflowRequest => {
  const { eventName, eventTime, awsRegion: region } = record;
  const bucket = record.s3.bucket.name;
  const { size, eTag, versionId, sequencer } = record.s3.object;
  const key = decodeKey(record.s3.object.key);
  const route = firstMatch(routes.s3, s3Conditions(record));
  if (route === undefined) {
    throw new NoRouteError(`No route for S3 event ${eventName} on bucket "${bucket}"`);
  }
  const context = { bucket, key, size, eTag, versionId, sequencer, eventName, eventTime, region };
  const identity = { name: 'sequencer', value: sequencer && `${bucket}-${key}-${sequencer}` };
  const request = fromRoute(routes, route, context, identity, Date.parse(eventTime) || undefined);
  return withEventId(request, identityOf(bucket, key, sequencer));
};

/** Acts on the records of an S3 notification, one after another; the first failure is thrown. */
export const handleS3 = (routes: Routes, event: S3Event, context: Context): Promise<WorkflowResult[]> =>
  actOnEach(
    event.Records,
    ({ s3: { bucket, object } }) => identityOf(bucket.name, decodeKey(object.key), object.sequencer),
    (record) => normalizeS3Record(routes, record),
    context,
  );

/** The test message a new notification configuration sends: logged, and answered without a start. */
export const acknowledgeS3Test = (): [] => {
  logger.info('S3 test event: the notification configuration reaches the function');
  return [];
};
