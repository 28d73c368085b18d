import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ALBEvent, ALBResult, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { canarySecret } from '../helpers/canary.ts';
import { fixture, restEvent, uid } from '../helpers/events.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/**
 * The HTTP contract is the same whichever of the four HTTP shapes carries a request: API Gateway's HTTP
 * API (payload 2.0) and REST API (payload 1.0), a Lambda Function URL, and an Application Load Balancer,
 * with multi-value headers off and on. Each check runs once per shape, against a real Temporal server.
 */

const GITHUB_SECRET = canarySecret('gh-shapes');

/** A request, before it takes one of the shapes. */
interface Request {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** What the contract is about in an answer, whatever its shape. */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly json: Record<string, unknown>;
}

const BASE_HEADERS = { 'content-type': 'application/json', 'user-agent': 'curl/8.5.0' };

/** `request` in payload 2.0, on a fixture of that format: API Gateway's HTTP API or a Function URL. */
const asV2 = (event: APIGatewayProxyEventV2, request: Request): APIGatewayProxyEventV2 => ({
  ...event,
  rawPath: request.path,
  rawQueryString: '',
  queryStringParameters: undefined,
  headers: { ...BASE_HEADERS, ...request.headers },
  requestContext: {
    ...event.requestContext,
    requestId: crypto.randomUUID(),
    http: { ...event.requestContext.http, method: request.method, path: request.path },
  },
  body: request.body,
  isBase64Encoded: false,
});

const SHAPES: Record<string, (request: Request) => unknown> = {
  'HTTP API, payload 2.0': (request) => asV2(fixture('http/v2-post-order.json'), request),
  'REST API, payload 1.0': (request) => {
    const event = restEvent();
    const headers = { ...BASE_HEADERS, ...request.headers };
    return {
      ...event,
      resource: request.path,
      path: request.path,
      httpMethod: request.method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      requestContext: { ...event.requestContext, requestId: crypto.randomUUID(), httpMethod: request.method },
      body: request.body ?? null,
    } satisfies APIGatewayProxyEvent;
  },
  'Lambda Function URL': (request) => {
    const event = fixture<APIGatewayProxyEventV2>('http/function-url-post.json');
    // Without its IAM caller (a unit test reads it), so that keys name the same IDs as in the other shapes.
    delete (event.requestContext as { authorizer?: unknown }).authorizer;
    return asV2(event, request);
  },
  'ALB, single-value headers': (request) => {
    const event = fixture<ALBEvent>('http/alb-post.json');
    return {
      ...event,
      httpMethod: request.method,
      path: request.path,
      queryStringParameters: {},
      headers: { ...BASE_HEADERS, ...request.headers },
      body: request.body ?? '',
      isBase64Encoded: false,
    } satisfies ALBEvent;
  },
  'ALB, multi-value headers': (request) => {
    const event = fixture<ALBEvent>('http/alb-multi-value-post.json');
    const headers = { ...BASE_HEADERS, ...request.headers };
    return {
      ...event,
      httpMethod: request.method,
      path: request.path,
      multiValueQueryStringParameters: {},
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      body: request.body ?? '',
      isBase64Encoded: false,
    } satisfies ALBEvent;
  },
};

describe('the HTTP contract in every HTTP shape', () => {
  let stack: Stack;
  let handler: (event: never, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

  before(async () => {
    stack = await startStack(['orders']);
    process.env.ROUTES_FILE = new URL('../routes/contract.json', import.meta.url).pathname;
    process.env.GITHUB_WEBHOOK_SECRET = GITHUB_SECRET;
    ({ handler } = await import('../../functions/http.ts'));
  });
  after(async () => {
    await stack?.stop();
  });

  /** Sends `request` in `shape` and reads the answer in that shape's own response format. */
  const send = async (shape: string, request: Request): Promise<Answer> => {
    const event = (SHAPES[shape] as (request: Request) => unknown)(request);
    const result = (await handler(event as never, lambdaContext())) as ALBResult;
    const alb = shape.startsWith('ALB');
    if (alb) {
      assert.equal(result.statusDescription?.startsWith(`${result.statusCode} `), true);
      // An ALB with multi-value headers on reads multiValueHeaders only, and without, headers only.
      assert.equal(result.multiValueHeaders === undefined, shape.endsWith('single-value headers'));
      assert.equal(result.headers === undefined, shape.endsWith('multi-value headers'));
    }
    const headers =
      result.headers !== undefined
        ? Object.fromEntries(Object.entries(result.headers).map(([name, value]) => [name, String(value)]))
        : Object.fromEntries(
            Object.entries(result.multiValueHeaders ?? {}).map(([name, values]) => [name, String(values[0])]),
          );
    return { status: result.statusCode, headers, json: result.body ? JSON.parse(result.body) : {} };
  };

  const each = (title: string, check: (shape: string) => Promise<void>) => {
    it(title, async (t) => {
      for (const shape of Object.keys(SHAPES)) await t.test(shape, () => check(shape));
    });
  };

  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Request => ({
    method: 'POST',
    path,
    headers,
    body: JSON.stringify(body),
  });

  each('starts with 202 and a Location, answers a retried key 200, and a reused key 422', async (shape) => {
    const key = uid();
    const first = await send(shape, post('/workflows/processOrder', { n: 1 }, { 'idempotency-key': key }));
    assert.equal(first.status, 202);
    assert.equal(first.headers.location, `/workflows/processOrder-${key}`);
    assert.equal(first.headers['content-type'], 'application/json');
    assert.match(String(first.headers['Strict-Transport-Security']), /max-age=/, 'security headers too');
    assert.equal(first.json.started, true);
    const again = await send(shape, post('/workflows/processOrder', { n: 1 }, { 'idempotency-key': key }));
    assert.equal(again.status, 200);
    assert.equal(again.json.runId, first.json.runId);
    const reused = await send(shape, post('/workflows/processOrder', { n: 2 }, { 'idempotency-key': key }));
    assert.equal(reused.status, 422);
    assert.equal(reused.headers['content-type'], 'application/problem+json');
    assert.match(String(reused.headers['Strict-Transport-Security']), /max-age=/, 'on errors too');
    assert.equal(reused.json.idempotencyKey, key);
  });

  each('waits for the result with Prefer: wait, and shows the status', async (shape) => {
    const key = uid();
    const waited = await send(
      shape,
      post('/workflows/processOrder', { n: 3 }, { 'idempotency-key': key, prefer: 'wait=10' }),
    );
    assert.equal(waited.status, 200);
    assert.equal(waited.headers['preference-applied'], 'wait=10');
    assert.equal(waited.json.status, 'COMPLETED');
    assert.deepEqual(waited.json.result, { processed: true, input: { n: 3 } });
    const status = await send(shape, { method: 'GET', path: `/workflows/processOrder-${key}` });
    assert.equal(status.status, 200);
    assert.equal(status.json.status, 'COMPLETED');
  });

  each('answers 400, 404, 405 and 415 as problem+json, before Temporal is called', async (shape) => {
    const malformed = await send(shape, { method: 'POST', path: '/workflows/processOrder', body: '{"n":' });
    const missing = await send(shape, post('/nowhere', {}));
    const method = await send(shape, { method: 'PUT', path: '/workflows/processOrder', body: '{}' });
    const media = await send(shape, {
      ...post('/workflows/processOrder', {}),
      headers: { 'content-type': 'text/plain' },
    });
    assert.deepEqual(
      [malformed, missing, method, media].map(({ status, headers }) => [status, headers['content-type']]),
      [
        [400, 'application/problem+json'],
        [404, 'application/problem+json'],
        [405, 'application/problem+json'],
        [415, 'application/problem+json'],
      ],
    );
    assert.equal(method.headers.allow, 'POST, GET');
    assert.equal(missing.json.type, 'urn:temporal-triggers:problem:no-route');
  });

  each('starts a signed webhook, and refuses a bad signature with 401', async (shape) => {
    const delivery = uid();
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
    const headers = { 'x-github-delivery': delivery };
    const bad = await send(shape, {
      method: 'POST',
      path: '/webhooks/github',
      headers: { ...headers, 'x-hub-signature-256': 'sha256=00' },
      body,
    });
    assert.equal(bad.status, 401);
    const good = await send(shape, {
      method: 'POST',
      path: '/webhooks/github',
      headers: { ...headers, 'x-hub-signature-256': signature },
      body,
    });
    assert.equal(good.status, 202);
    assert.deepEqual((await stack.completed(`github-${delivery}`)).result, {
      processed: true,
      input: { ref: 'refs/heads/main' },
    });
  });
});
