import type {
  DynamoDBRecord,
  DynamoDBStreamEvent,
  KinesisStreamEvent,
  KinesisStreamRecord,
  S3Event,
  S3EventRecord,
  SNSEvent,
  SNSEventRecord,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { isTriggerError } from '#lib/errors.ts';
import {
  checkBody,
  type HttpEvent,
  httpConditions,
  matchHttp,
  toHttpRequest,
  workflowRequestOf,
} from '#lib/http/request.ts';
import { signatureHeaderOf } from '#lib/http/signatureHeader.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { type Condition, type ConditionsOf, firstMatch } from '#lib/routes/conditions.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import type { TriggerKind } from '#lib/routes/triggers.ts';
import { dynamoDbConditions, normalizeDynamoDbRecord } from '#lib/sources/dynamodb.ts';
import {
  eventBridgeConditions,
  eventBridgeTriggerOf,
  normalizeEventBridge,
} from '#lib/sources/eventbridge.ts';
import { kinesisConditions, normalizeKinesisRecord } from '#lib/sources/kinesis.ts';
import { decodeKey, isS3Event, isS3TestEvent, normalizeS3Record, s3Conditions } from '#lib/sources/s3.ts';
import { isSnsEvent, normalizeSnsRecord, snsConditions } from '#lib/sources/sns.ts';
import { normalizeSqsRecord, sqsConditions } from '#lib/sources/sqs.ts';

/*
 * `npm run routes -- explain`: what the functions would do with an event, without doing it. Matching
 * and normalizing are the functions' own (the sources' conditions, matchHttp, workflowRequestOf and the
 * normalize functions of each source); nothing here calls Temporal or reads a secret.
 */

/**
 * What an event is, by its shape: an HTTP request (the http function), an SQS batch (the sqs function),
 * a Kinesis or DynamoDB Streams batch (the streams function), or what the asynchronous (eventbridge)
 * function takes: SNS messages, S3 event notifications, S3's test event, EventBridge events and
 * Scheduler inputs.
 */
export type Source = 'http' | 'sqs' | 'kinesis' | 'dynamodb' | 'sns' | 's3' | 's3-test' | 'eventbridge';

/** The sources whose events are records, each explained on its own. */
export const RECORDS: ReadonlySet<Source> = new Set(['sqs', 'kinesis', 'dynamodb', 'sns', 's3']);

/** A route of the event's trigger that did not match, and its conditions, met or not. */
export interface NearRoute {
  readonly name: string;
  readonly met: number;
  readonly conditions: readonly Condition[];
}

/** An error that normalizing threw: its message, and whatever else it carries (the route, the path, the violations). */
export interface Failure {
  readonly name: string;
  readonly message: string;
  readonly statusCode?: number;
  readonly permanent?: boolean;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What the function would do with one event, or one SQS record. */
export interface Explanation {
  /** The event, in a few words: `POST /orders/acme`, `message <id>`, `"OrderPlaced" from com.example.shop`. */
  readonly event: string;
  /** Whose routes it is matched against; undefined for a Scheduler target input, which can only be the envelope. */
  readonly trigger: TriggerKind | undefined;
  /**
   * A route, the canonical envelope, a status request (HTTP GET /workflows/{id}), S3's test event
   * (acknowledged, nothing started), or nothing.
   */
  readonly match: 'route' | 'envelope' | 'status' | 'openapi' | 'acknowledged' | 'none';
  /** The route that matched, and the conditions it met. */
  readonly route?: { readonly name: string; readonly conditions: readonly Condition[] };
  /** A status request's workflow ID: it starts nothing. */
  readonly workflowId?: string;
  /** The matched route's webhook signature, which explain does not verify. */
  readonly signature?: {
    readonly scheme: string;
    readonly header: string | undefined;
    readonly present: boolean;
    readonly verified: false;
  };
  /** What the function would pass to performAction. */
  readonly request?: WorkflowRequest;
  readonly error?: Failure;
  /** When nothing matched: the routes of the trigger nearest to matching, most conditions met first. */
  readonly nearest?: readonly NearRoute[];
}

export const succeeded = (explanation: Explanation): boolean =>
  explanation.match !== 'none' && explanation.error === undefined;

/** How many near misses are shown. */
const NEAREST = 3;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A batch whose every record comes from this event source (`aws:sqs`, `aws:kinesis`, `aws:dynamodb`). */
const isBatchOf = (event: Record<string, unknown>, eventSource: string): boolean => {
  const records = Array.isArray(event.Records) ? (event.Records as unknown[]) : [];
  return (
    records.length > 0 && records.every((record) => isObject(record) && record.eventSource === eventSource)
  );
};

/** What an event is, by its shape; undefined when no function takes it (a usage error). */
export const sourceOf = (event: unknown): Source | undefined => {
  if (!isObject(event)) return undefined;
  if (isBatchOf(event, 'aws:sqs')) return 'sqs';
  if (isBatchOf(event, 'aws:kinesis')) return 'kinesis';
  if (isBatchOf(event, 'aws:dynamodb')) return 'dynamodb';
  // As the eventbridge function tells its inputs apart (functions/eventbridge.ts).
  if (isSnsEvent(event)) return 'sns';
  if (isS3Event(event)) return 's3';
  if (isS3TestEvent(event)) return 's3-test';
  if (Array.isArray(event.Records)) return undefined;
  if (isObject(event.requestContext)) {
    if (event.version === '2.0' && isObject(event.requestContext.http)) return 'http';
    if (typeof event.httpMethod === 'string') return 'http';
  }
  if (eventBridgeTriggerOf(event) !== undefined || 'workflowType' in event) return 'eventbridge';
  return undefined;
};

/** Fields every TriggerError has; the rest are what this one adds. */
const COMMON_FIELDS = new Set(['name', 'message', 'stack', 'cause', 'statusCode', 'title', 'permanent']);

const failureOf = (error: unknown): Failure => {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields = Object.fromEntries(Object.entries(error).filter(([key]) => !COMMON_FIELDS.has(key)));
  return {
    name: error.name,
    message: error.message,
    ...(isTriggerError(error) && { statusCode: error.statusCode, permanent: error.permanent }),
    fields,
  };
};

const attempt = (build: () => WorkflowRequest): { request: WorkflowRequest } | { error: Failure } => {
  try {
    return { request: build() };
  } catch (error) {
    return { error: failureOf(error) };
  }
};

const metCount = (conditions: readonly Condition[]): number => conditions.filter(({ met }) => met).length;

/** The routes nearest to matching: most conditions met, then fewest failed, then file order. */
const nearestOf = <R>(
  routes: readonly R[],
  conditionsOf: ConditionsOf<R>,
  nameOf: (route: R) => string,
): NearRoute[] =>
  routes
    .map((route) => {
      const conditions = conditionsOf(route);
      return { name: nameOf(route), met: metCount(conditions), conditions };
    })
    .sort((a, b) => b.met - a.met || a.conditions.length - b.conditions.length)
    .slice(0, NEAREST);

/** An SQS record or an EventBridge input: the first route whose conditions it meets, else the envelope. */
const explainRouted = (
  event: string,
  trigger: TriggerKind | undefined,
  candidates: readonly Route[],
  conditionsOf: ConditionsOf<Route>,
  build: () => WorkflowRequest,
): Explanation => {
  const route = firstMatch(candidates, conditionsOf);
  const outcome = attempt(build);
  if (route !== undefined) {
    return {
      event,
      trigger,
      match: 'route',
      route: { name: route.name, conditions: conditionsOf(route) },
      ...outcome,
    };
  }
  if ('request' in outcome) return { event, trigger, match: 'envelope', ...outcome };
  // A Scheduler target input that is no schedule's can only have been the envelope.
  if (trigger === undefined) return { event, trigger, match: 'envelope', ...outcome };
  const nearest = nearestOf(candidates, conditionsOf, ({ name }) => name);
  return { event, trigger, match: 'none', ...outcome, nearest };
};

/** What the http function is configured with: its largest body, and whether it serves GET /openapi.json. */
export interface HttpSettings {
  readonly maxBodyBytes: number;
  readonly openapi: boolean;
}

const explainHttp = (
  routes: Routes,
  event: HttpEvent,
  { maxBodyBytes, openapi }: HttpSettings,
): Explanation => {
  const request = toHttpRequest(event);
  const label = `${request.method} ${request.path}`;
  const conditionsOf = httpConditions(request);
  let target: ReturnType<typeof matchHttp>;
  try {
    target = matchHttp(routes, request, { openapi });
  } catch (error) {
    const nearest = nearestOf(routes.http, conditionsOf, ({ route }) => route.name);
    return { event: label, trigger: 'http', match: 'none', error: failureOf(error), nearest };
  }
  if (target.kind === 'status') {
    return { event: label, trigger: 'http', match: 'status', workflowId: target.workflowId };
  }
  if (target.kind === 'openapi') return { event: label, trigger: 'http', match: 'openapi' };
  const outcome = attempt(() => {
    // In the handler's order: the body's size and type, then the templates.
    checkBody(request, maxBodyBytes);
    return workflowRequestOf(routes, target, request);
  });
  if (target.kind === 'envelope') return { event: label, trigger: 'http', match: 'envelope', ...outcome };
  const compiled = routes.http.find(({ route }) => route === target.route);
  const signature = target.route.http?.signature;
  const header = signatureHeaderOf(signature);
  return {
    event: label,
    trigger: 'http',
    match: 'route',
    route: { name: target.route.name, conditions: compiled === undefined ? [] : conditionsOf(compiled) },
    ...(signature !== undefined && {
      signature: {
        scheme: signature.scheme,
        header,
        present: header !== undefined && request.headers[header] !== undefined,
        verified: false,
      },
    }),
    ...outcome,
  };
};

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const eventBridgeLabel = (event: Record<string, unknown>): string => {
  const source = text(event.source);
  const detailType = text(event['detail-type']);
  if (source !== undefined && detailType !== undefined) {
    return `"${detailType}" from ${source}${text(event.id) === undefined ? '' : `, event ${event.id}`}`;
  }
  const arn = text(event.scheduleArn);
  return arn === undefined ? 'a Scheduler target input' : `a Scheduler target input of ${arn}`;
};

const explainEventBridge = (routes: Routes, event: Record<string, unknown>): Explanation => {
  const trigger = eventBridgeTriggerOf(event);
  return explainRouted(
    eventBridgeLabel(event),
    trigger,
    trigger === undefined ? [] : routes[trigger],
    eventBridgeConditions(event),
    () => normalizeEventBridge(routes, event),
  );
};

/** How a batch's records are read: what each is called, what routes ask of it, and its request. */
interface RecordSource<R> {
  readonly trigger: 'sqs' | 'kinesis' | 'dynamodb' | 'sns' | 's3';
  readonly label: (record: R) => string;
  readonly conditions: (record: R) => ConditionsOf<Route>;
  readonly normalize: (routes: Routes, record: R) => WorkflowRequest;
}

const explainRecords = <R>(
  routes: Routes,
  records: readonly R[],
  { trigger, label, conditions, normalize }: RecordSource<R>,
): Explanation[] =>
  records.map((record) =>
    explainRouted(label(record), trigger, routes[trigger], conditions(record), () =>
      normalize(routes, record),
    ),
  );

const SQS: RecordSource<SQSRecord> = {
  trigger: 'sqs',
  label: (record) => `message ${record.messageId}`,
  conditions: sqsConditions,
  normalize: normalizeSqsRecord,
};

const KINESIS: RecordSource<KinesisStreamRecord> = {
  trigger: 'kinesis',
  label: (record) => `sequence number ${record.kinesis.sequenceNumber}`,
  conditions: kinesisConditions,
  normalize: normalizeKinesisRecord,
};

const DYNAMODB: RecordSource<DynamoDBRecord> = {
  trigger: 'dynamodb',
  label: (record) => `${record.eventName} ${record.eventID}`,
  conditions: dynamoDbConditions,
  normalize: normalizeDynamoDbRecord,
};

const SNS: RecordSource<SNSEventRecord> = {
  trigger: 'sns',
  label: (record) => `message ${record.Sns.MessageId}`,
  conditions: (record) => snsConditions(record.Sns),
  normalize: normalizeSnsRecord,
};

const S3: RecordSource<S3EventRecord> = {
  trigger: 's3',
  label: (record) =>
    `${record.eventName} of s3://${record.s3.bucket.name}/${decodeKey(record.s3.object.key)}`,
  conditions: s3Conditions,
  normalize: normalizeS3Record,
};

/** What the functions would do with an event: one explanation per record of a batch, else one. */
export const explainEvent = (
  routes: Routes,
  source: Source,
  event: unknown,
  http: HttpSettings,
): Explanation[] => {
  switch (source) {
    case 'http':
      return [explainHttp(routes, event as HttpEvent, http)];
    case 'sqs':
      return explainRecords(routes, (event as SQSEvent).Records, SQS);
    case 'kinesis':
      return explainRecords(routes, (event as KinesisStreamEvent).Records, KINESIS);
    case 'dynamodb':
      return explainRecords(routes, (event as DynamoDBStreamEvent).Records, DYNAMODB);
    case 'sns':
      return explainRecords(routes, (event as SNSEvent).Records, SNS);
    case 's3':
      return explainRecords(routes, (event as S3Event).Records, S3);
    case 's3-test':
      return [
        {
          event: `the test event of bucket ${text((event as Record<string, unknown>).Bucket)}`,
          trigger: 's3',
          match: 'acknowledged',
        },
      ];
    case 'eventbridge':
      return [explainEventBridge(routes, event as Record<string, unknown>)];
  }
};
