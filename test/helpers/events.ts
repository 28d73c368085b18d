import { readFileSync } from 'node:fs';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  EventBridgeEvent,
  KinesisStreamEvent,
  KinesisStreamRecord,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';

/** A fixture from test/events/, parsed afresh on every call so tests can change it freely. */
export const fixture = <T>(path: string): T =>
  JSON.parse(readFileSync(new URL(`../events/${path}`, import.meta.url), 'utf8')) as T;

/** A unique suffix, so tests that share one Temporal server never share a workflow ID. */
export const uid = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** An HTTP API (payload 2.0) request, from the documented fixture. */
export const httpEvent = (options: {
  method?: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}): APIGatewayProxyEventV2 => {
  const event = fixture<APIGatewayProxyEventV2>('http/v2-post-order.json');
  const method = options.method ?? 'POST';
  return {
    ...event,
    rawPath: options.path,
    rawQueryString: '',
    queryStringParameters: undefined,
    headers: { ...event.headers, ...options.headers },
    requestContext: {
      ...event.requestContext,
      // API Gateway's request ID is unique per request, and the default workflow ID is built from it.
      requestId: crypto.randomUUID(),
      http: { ...event.requestContext.http, method, path: options.path },
    },
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
    isBase64Encoded: false,
  };
};

export const restEvent = (): APIGatewayProxyEvent => fixture<APIGatewayProxyEvent>('http/v1-post-order.json');

/** One SQS record from the orders queue, with its body as JSON unless it is a string already. */
export const sqsRecord = (
  body: unknown,
  overrides: { messageId?: string; queue?: string; attributes?: Record<string, string> } = {},
): SQSRecord => {
  const template = fixture<SQSEvent>('sqs/orders-batch.json').Records[0] as SQSRecord;
  return {
    ...template,
    messageId: overrides.messageId ?? crypto.randomUUID(),
    body: typeof body === 'string' ? body : JSON.stringify(body),
    eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${overrides.queue ?? 'orders'}`,
    messageAttributes: Object.fromEntries(
      Object.entries(overrides.attributes ?? { kind: 'order' }).map(([name, stringValue]) => [
        name,
        { stringValue, stringListValues: [], binaryListValues: [], dataType: 'String' },
      ]),
    ),
  };
};

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** A custom EventBridge event, from the documented fixture. */
export const eventBridgeEvent = (
  detail: unknown,
  overrides: Partial<EventBridgeEvent<string, unknown>> = {},
): EventBridgeEvent<string, unknown> => ({
  ...fixture<EventBridgeEvent<string, unknown>>('eventbridge/order-placed.json'),
  id: crypto.randomUUID(),
  detail,
  ...overrides,
});

let sequence = 0;
/** A stream sequence number, increasing and unique per test process, as long as AWS's. */
export const sequenceNumber = (): string => {
  sequence += 1;
  return `4959${Date.now()}${String(process.pid).padStart(7, '0')}${String(sequence).padStart(8, '0')}`;
};

/** One Kinesis record from the documented fixture: `data` as JSON (base64), unless it is a string already. */
export const kinesisRecord = (
  data: unknown,
  overrides: { stream?: string; shardId?: string; partitionKey?: string; sequenceNumber?: string } = {},
): KinesisStreamRecord => {
  const template = fixture<KinesisStreamEvent>('kinesis/orders-batch.json').Records[0] as KinesisStreamRecord;
  const number = overrides.sequenceNumber ?? sequenceNumber();
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return {
    ...template,
    kinesis: {
      ...template.kinesis,
      partitionKey: overrides.partitionKey ?? template.kinesis.partitionKey,
      sequenceNumber: number,
      data: Buffer.from(text).toString('base64'),
    },
    eventID: `${overrides.shardId ?? 'shardId-000000000006'}:${number}`,
    eventSourceARN: `arn:aws:kinesis:us-east-2:123456789012:stream/${overrides.stream ?? 'orders-stream'}`,
  };
};

export const kinesisEvent = (...records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });

/** One DynamoDB stream record from the documented fixture, with the change and images given (DynamoDB JSON). */
export const dynamodbRecord = (
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { keys: object; newImage?: object; oldImage?: object },
  overrides: { table?: string; eventId?: string } = {},
): DynamoDBRecord => {
  const template = fixture<DynamoDBStreamEvent>('dynamodb/orders-changes.json').Records[0] as DynamoDBRecord;
  const { NewImage: _new, OldImage: _old, ...change } = template.dynamodb ?? {};
  return {
    ...template,
    eventID: overrides.eventId ?? crypto.randomUUID().replaceAll('-', ''),
    eventName,
    dynamodb: {
      ...change,
      Keys: images.keys as never,
      ...(images.newImage !== undefined && { NewImage: images.newImage as never }),
      ...(images.oldImage !== undefined && { OldImage: images.oldImage as never }),
      SequenceNumber: sequenceNumber(),
    },
    eventSourceARN: `arn:aws:dynamodb:us-west-2:123456789012:table/${overrides.table ?? 'orders'}/stream/2015-06-27T00:48:05.899`,
  };
};

export const dynamodbEvent = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
