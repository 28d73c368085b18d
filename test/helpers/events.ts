import { readFileSync } from 'node:fs';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  EventBridgeEvent,
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
