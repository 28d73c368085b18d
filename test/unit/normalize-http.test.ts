import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  MalformedJsonError,
  MethodNotAllowedError,
  NoRouteError,
  PayloadTooLargeError,
  TemplateError,
  UnsupportedMediaTypeError,
  WorkflowNotAllowedError,
} from '#lib/errors.ts';
import {
  type ActionTarget,
  checkBody,
  matchHttp,
  toHttpRequest,
  workflowRequestOf,
} from '#lib/http/request.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { fixture, httpEvent, restEvent } from '../helpers/events.ts';

const table = compileRoutes(fixture('../../routes.json'), 'routes.json', undefined);
const normalize = (event: Parameters<typeof toHttpRequest>[0]) => {
  const request = toHttpRequest(event);
  const target = matchHttp(table, request);
  assert.notEqual(target.kind, 'status');
  return workflowRequestOf(table, target as ActionTarget, request);
};
const text = (body: Buffer | undefined) => body?.toString('utf8');

describe('toHttpRequest', () => {
  it('reads an HTTP API payload 2.0 event', () => {
    const request = toHttpRequest(fixture('http/v2-post-order.json'));
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/orders/acme');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(request.query, { source: 'web' });
    assert.equal(text(request.rawBody), '{"orderId":"1001","items":["book"]}');
    assert.equal(request.requestId, 'JKJaXmPLvHcESHA=');
  });

  it('reads a REST API payload 1.0 event: header names lower-cased, repeated headers joined', () => {
    const event = restEvent();
    event.multiValueHeaders['X-Tag'] = ['a', 'b'];
    const request = toHttpRequest(event);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/orders/acme');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-tag'], 'a, b');
    assert.equal(request.requestId, 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef');
  });

  it('decodes base64 bodies', () => {
    assert.equal(text(toHttpRequest(fixture('http/v2-canonical.json')).rawBody), '{"cart":["book"]}');
  });

  it('reads the same request identically from payload 1.0 and 2.0: casing, repeats, cookies, base64', () => {
    const v2 = fixture<APIGatewayProxyEventV2>('http/v2-post-order.json');
    v2.headers['x-tag'] = 'a,b';
    v2.cookies = ['session=abc', 'theme=dark'];
    v2.rawQueryString = 'source=web&tag=1&tag=2';
    v2.queryStringParameters = { source: 'web', tag: '1,2' };
    v2.body = Buffer.from(String(v2.body)).toString('base64');
    v2.isBase64Encoded = true;

    const v1 = restEvent();
    v1.requestContext.requestId = v2.requestContext.requestId;
    v1.headers['X-Tag'] = 'b';
    v1.multiValueHeaders['X-Tag'] = ['a,b'];
    v1.headers.Cookie = 'session=abc; theme=dark';
    v1.multiValueHeaders.Cookie = ['session=abc; theme=dark'];
    v1.multiValueQueryStringParameters = { source: ['web'], tag: ['1', '2'] };

    const fromV1 = toHttpRequest(v1 as APIGatewayProxyEvent);
    const fromV2 = toHttpRequest(v2);
    const comparable = (request: typeof fromV1) => ({
      ...request,
      headers: { cookie: request.headers.cookie, 'x-tag': request.headers['x-tag'] },
      rawBody: text(request.rawBody),
    });
    assert.deepEqual(comparable(fromV1), comparable(fromV2));
    assert.deepEqual(fromV2.cookies, { session: 'abc', theme: 'dark' });
    assert.deepEqual(fromV2.query, { source: 'web', tag: '1,2' });
    assert.equal(fromV2.headers['x-tag'], 'a,b');
  });

  it('strips a named stage from rawPath', () => {
    const event = httpEvent({ path: '/prod/orders/acme' });
    event.requestContext.stage = 'prod';
    assert.equal(toHttpRequest(event).path, '/orders/acme');
  });
});

describe('normalizeHttp', () => {
  it('renders the matched route with path parameters and the parsed body', () => {
    assert.deepEqual(normalize(fixture('http/v2-post-order.json')), {
      workflowType: 'processOrder',
      workflowId: 'order-1001',
      taskQueue: 'orders',
      input: { order: { orderId: '1001', items: ['book'] }, tenant: 'acme' },
      idReusePolicy: 'REJECT_DUPLICATE',
      idConflictPolicy: 'USE_EXISTING',
      action: 'start',
      options: {},
      target: {},
      route: 'orders-api',
    });
  });

  it('normalizes the same request identically from payload 1.0 and 2.0', () => {
    assert.deepEqual(normalize(restEvent()), normalize(fixture('http/v2-post-order.json')));
  });

  it('starts allow-listed types through the canonical envelope, keyed by Idempotency-Key', () => {
    const request = normalize(fixture('http/v2-canonical.json'));
    assert.equal(request.workflowType, 'processOrder');
    assert.equal(request.workflowId, 'processOrder-checkout-7f3a');
    assert.equal(request.taskQueue, 'orders');
    assert.deepEqual(request.input, { cart: ['book'] });
    assert.equal(request.route, 'canonical');
  });

  it("keys the canonical envelope by API Gateway's request ID without Idempotency-Key", () => {
    const event = httpEvent({ path: '/workflows/processOrder', body: {} });
    assert.equal(normalize(event).workflowId, `processOrder-${event.requestContext.requestId}`);
  });

  it('reads GET /workflows/{workflowId} as a status request, percent-decoded', () => {
    const request = toHttpRequest(httpEvent({ method: 'GET', path: '/workflows/order%2F1001' }));
    assert.deepEqual(matchHttp(table, request), { kind: 'status', workflowId: 'order/1001' });
  });

  it('answers other methods on /workflows/{x} with 405, allowing GET and POST', () => {
    const request = toHttpRequest(httpEvent({ method: 'DELETE', path: '/workflows/x' }));
    assert.throws(
      () => matchHttp(table, request),
      (error: unknown) => error instanceof MethodNotAllowedError && error.allow.join() === 'POST,GET',
    );
  });

  it('reads GET /openapi.json as the document only when it is served, before any route, and 405 for other methods', () => {
    const pages = compileRoutes(
      {
        workflows: { processOrder: { taskQueue: 'orders' } },
        routes: [
          { name: 'page', http: { method: 'GET', path: '/{page}' }, workflowType: 'processOrder' },
          { name: 'post', http: { method: 'POST', path: '/openapi.json' }, workflowType: 'processOrder' },
        ],
      },
      'inline',
      undefined,
    );
    const request = (method: string) => toHttpRequest(httpEvent({ method, path: '/openapi.json' }));

    assert.deepEqual(matchHttp(pages, request('GET'), { openapi: true }), { kind: 'openapi' });
    assert.equal(matchHttp(pages, request('POST'), { openapi: true }).kind, 'route');
    const page = matchHttp(pages, request('GET'));
    assert.equal(page.kind === 'route' && page.route.name, 'page');
    assert.throws(() => matchHttp(table, request('GET')), NoRouteError);
    assert.throws(
      () => matchHttp(table, request('PUT'), { openapi: true }),
      (error: unknown) => error instanceof MethodNotAllowedError && error.allow.join() === 'GET',
    );
  });

  it('never lets the caller choose the task queue', () => {
    const request = normalize(
      httpEvent({ path: '/workflows/processOrder', body: { taskQueue: 'evil', workflowType: 'x' } }),
    );
    assert.equal(request.taskQueue, 'orders');
  });

  it('answers a type outside the allow-list with WorkflowNotAllowedError', () => {
    assert.throws(
      () => normalize(httpEvent({ path: '/workflows/dropTables', body: {} })),
      WorkflowNotAllowedError,
    );
  });

  it('tells a missing route from a wrong method', () => {
    assert.throws(() => normalize(httpEvent({ path: '/nowhere', body: {} })), NoRouteError);
    assert.throws(
      () => normalize(httpEvent({ method: 'PUT', path: '/orders/acme', body: {} })),
      (error: unknown) => error instanceof MethodNotAllowedError && error.allow.includes('POST'),
    );
  });

  it('rejects malformed JSON without quoting the body', () => {
    assert.throws(
      () => normalize(httpEvent({ path: '/orders/acme', body: '{"orderId": secret' })),
      (error: unknown) =>
        error instanceof MalformedJsonError && !error.message.includes('secret') && !error.cause,
    );
  });

  it('reports a missing template path with the route and path', () => {
    assert.throws(
      () => normalize(httpEvent({ path: '/orders/acme', body: { sku: 'x' } })),
      (error: unknown) =>
        error instanceof TemplateError && error.route === 'orders-api' && error.path === 'body.orderId',
    );
  });
});

describe('checkBody', () => {
  const request = (body: string, contentType?: string) =>
    toHttpRequest(
      httpEvent({
        path: '/orders/acme',
        body,
        headers: contentType === undefined ? {} : { 'content-type': contentType },
      }),
    );

  it('refuses a body over the limit, counting bytes', () => {
    assert.throws(() => checkBody(request('"ééé"'), 7), PayloadTooLargeError);
    assert.doesNotThrow(() => checkBody(request('"ééé"'), 8));
  });

  it('accepts JSON media types, with parameters, and a body without Content-Type', () => {
    for (const type of [
      'application/json',
      'Application/JSON; charset=utf-8',
      'application/cloudevents+json',
    ]) {
      assert.doesNotThrow(() => checkBody(request('{}', type), 1024), type);
    }
    const untyped = toHttpRequest({ ...httpEvent({ path: '/orders/acme', body: '{}' }), headers: {} });
    assert.doesNotThrow(() => checkBody(untyped, 1024));
  });

  it('refuses a body declared as anything else', () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/jsonp']) {
      assert.throws(() => checkBody(request('{}', type), 1024), UnsupportedMediaTypeError, type);
    }
  });
});

describe('identity and credentials in HTTP start requests', () => {
  const contract = compileRoutes(fixture('../routes/contract.json'), 'contract.json', undefined);
  const normalizeWith = (routes: typeof contract, event: Parameters<typeof toHttpRequest>[0]) => {
    const request = toHttpRequest(event);
    const target = matchHttp(routes, request);
    assert.notEqual(target.kind, 'status');
    return workflowRequestOf(routes, target as ActionTarget, request);
  };
  const withCaller = (event: APIGatewayProxyEventV2, authorizer: unknown): APIGatewayProxyEventV2 =>
    ({ ...event, requestContext: { ...event.requestContext, authorizer } }) as APIGatewayProxyEventV2;

  it('refuses a default workflow ID when the event has no request ID and no Idempotency-Key (an ALB event)', () => {
    const alb = fixture<APIGatewayProxyEvent>('http/alb-post.json');
    assert.throws(() => normalize(alb), {
      name: 'ValidationError',
      message:
        'The envelope names no workflowId, and the event has no Idempotency-Key header or request ID to derive one from',
    });
    const keyed = { ...alb, headers: { ...alb.headers, 'idempotency-key': 'k-1' } };
    assert.equal(normalize(keyed).workflowId, 'processOrder-k-1');
  });

  it('leaves credential-bearing headers out of {headers} unless the route names them', () => {
    const headers = {
      authorization: 'Bearer secret-token',
      'proxy-authorization': 'Basic abc',
      cookie: 'session=s',
      'x-api-key': 'key',
      'x-tenant': 'acme',
      'idempotency-key': 'h-1',
    };
    const echoed = normalizeWith(contract, httpEvent({ path: '/echo', body: {}, headers }));
    const echoedHeaders = (echoed.input as { headers: Record<string, string> }).headers;
    for (const name of ['authorization', 'proxy-authorization', 'cookie', 'x-api-key']) {
      assert.equal(Object.hasOwn(echoedHeaders, name), false, name);
    }
    assert.equal(echoedHeaders['x-tenant'], 'acme');

    const named = normalizeWith(contract, httpEvent({ path: '/echo-auth', body: {}, headers }));
    assert.deepEqual(named.input, { auth: 'Bearer secret-token' });
  });

  it("leaves a route's own signature header out of {headers}", () => {
    const request = toHttpRequest(
      httpEvent({
        path: '/webhooks/github',
        body: {},
        headers: { 'x-hub-signature-256': 'sha256=00', 'x-github-delivery': 'd-1' },
      }),
    );
    const target = matchHttp(contract, request);
    assert.equal(target.kind, 'route');
    const echo = { ...(target as Extract<typeof target, { kind: 'route' }>) };
    const route = { ...echo.route, input: { headers: '{headers}' } };
    const rendered = workflowRequestOf(contract, { ...echo, route }, request);
    assert.deepEqual(
      Object.keys((rendered.input as { headers: object }).headers).includes('x-hub-signature-256'),
      false,
    );
  });

  it('scopes an Idempotency-Key to the authenticated caller, IAM or JWT, and marks the request with that scope', () => {
    const event = httpEvent({
      path: '/workflows/processOrder',
      body: {},
      headers: { 'idempotency-key': 'same' },
    });
    const alice = normalize(withCaller(event, { iam: { userArn: 'arn:aws:iam::123456789012:user/alice' } }));
    const bob = normalize(withCaller(event, { iam: { userArn: 'arn:aws:iam::123456789012:user/bob' } }));
    const carol = normalize(
      withCaller(event, { jwt: { claims: { iss: 'https://idp.example.com', sub: 'carol' } } }),
    );
    const anonymous = normalize(event);

    assert.match(alice.workflowId, /^processOrder-[0-9a-f]{16}-same$/);
    assert.equal(new Set([alice.workflowId, bob.workflowId, carol.workflowId]).size, 3);
    assert.equal(anonymous.workflowId, 'processOrder-same');
    assert.equal(alice.scope, alice.workflowId.split('-')[1]);
    assert.equal(anonymous.scope, undefined);
    assert.doesNotMatch(alice.workflowId, /alice/, 'the principal is not in the ID');
  });

  it('reads the caller of a REST API request: IAM identity, or Cognito claims', () => {
    const rest = restEvent();
    const iam = {
      ...rest,
      requestContext: {
        ...rest.requestContext,
        identity: { ...rest.requestContext.identity, userArn: 'arn:aws:iam::123456789012:user/alice' },
      },
    };
    assert.equal(toHttpRequest(iam).caller, 'iam:arn:aws:iam::123456789012:user/alice');
    const cognito = {
      ...rest,
      requestContext: {
        ...rest.requestContext,
        authorizer: { claims: { iss: 'https://cognito', sub: 'u-1' } },
      },
    };
    assert.equal(toHttpRequest(cognito).caller, 'jwt:https://cognito|u-1');
    assert.equal(toHttpRequest(rest).caller, undefined);
  });
});

describe('the Idempotency-Key fingerprint', () => {
  const keyed = (body: string, options: { path?: string; base64?: boolean; key?: string } = {}) => {
    const event = httpEvent({
      path: options.path ?? '/workflows/processOrder',
      body,
      headers: options.key === '' ? {} : { 'idempotency-key': options.key ?? 'k-1' },
    });
    if (options.base64) {
      event.body = Buffer.from(body).toString('base64');
      event.isBase64Encoded = true;
    }
    return normalize(event).idempotency;
  };

  it('is the same for the same method, path and body bytes, however they were encoded', () => {
    const plain = keyed('{"n":1}');
    assert.equal(plain?.key, 'k-1');
    assert.match(String(plain?.fingerprint), /^[\w-]{43}$/);
    assert.deepEqual(keyed('{"n":1}', { base64: true }), plain);
  });

  it('differs with the body, even by a byte, and with the path', () => {
    const plain = keyed('{"n":1}')?.fingerprint;
    assert.notEqual(keyed('{"n":2}')?.fingerprint, plain);
    assert.notEqual(keyed('{"n": 1}')?.fingerprint, plain);
    assert.notEqual(keyed('{"n":1}', { path: '/workflows/nightlyReport' })?.fingerprint, plain);
  });

  it('is not taken without an Idempotency-Key', () => {
    assert.equal(keyed('{"n":1}', { key: '' }), undefined);
  });
});

describe('Lambda Function URL and ALB events', () => {
  it('reads a Function URL request as the payload 2.0 request it is, with its IAM caller', () => {
    const request = toHttpRequest(fixture('http/function-url-post.json'));
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/orders/acme');
    assert.deepEqual(request.query, { source: 'web' });
    assert.equal(text(request.rawBody), '{"orderId":"1001","items":["book"]}');
    assert.equal(request.requestId, 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef');
    assert.equal(request.caller, 'iam:arn:aws:iam::111122223333:user/example-user');
    assert.equal(normalize(fixture('http/function-url-post.json')).workflowId, 'order-1001');
  });

  it('reads an ALB request in multi-value mode: repeats joined, cookies parsed, the query decoded', () => {
    const request = toHttpRequest(fixture('http/alb-multi-value-post.json'));
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/orders/acme');
    assert.deepEqual(request.query, { source: 'web', tag: 'a b,c d' });
    assert.deepEqual(request.cookies, { name1: 'value1', name2: 'value2' });
    assert.equal(request.headers['idempotency-key'], 'alb-1001');
    assert.equal(request.requestId, undefined);
    assert.equal(request.caller, undefined);
    assert.equal(normalize(fixture('http/alb-multi-value-post.json')).workflowId, 'order-1001');
  });

  it('decodes an ALB query in single-value mode too, and keeps a malformed escape as it came', () => {
    const alb = fixture<APIGatewayProxyEvent>('http/alb-post.json');
    alb.queryStringParameters = { 'q%20x': 'caf%C3%A9', bad: '100%' };
    assert.deepEqual(toHttpRequest(alb).query, { 'q x': 'café', bad: '100%' });
  });
});
