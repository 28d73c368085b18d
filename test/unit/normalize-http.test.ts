import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MalformedJsonError,
  MethodNotAllowedError,
  NoRouteError,
  TemplateError,
  WorkflowNotAllowedError,
} from '#lib/errors.ts';
import { normalizeHttp, toHttpRequest } from '#lib/normalize/http.ts';
import { compileRoutes } from '#lib/routes/load.ts';
import { fixture, httpEvent, restEvent } from '../helpers/events.ts';

const table = compileRoutes(fixture('../../routes.json'), 'routes.json', undefined);
const normalize = (event: Parameters<typeof toHttpRequest>[0]) => normalizeHttp(table, toHttpRequest(event));

describe('toHttpRequest', () => {
  it('reads an HTTP API payload 2.0 event', () => {
    const request = toHttpRequest(fixture('http/v2-post-order.json'));
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/orders/acme');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(request.query, { source: 'web' });
    assert.equal(request.body, '{"orderId":"1001","items":["book"]}');
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
    assert.equal(toHttpRequest(fixture('http/v2-canonical.json')).body, '{"cart":["book"]}');
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

  it('gives the canonical envelope a random ID without Idempotency-Key', () => {
    const first = normalize(httpEvent({ path: '/workflows/processOrder', body: {} }));
    const second = normalize(httpEvent({ path: '/workflows/processOrder', body: {} }));
    assert.match(first.workflowId, /^processOrder-[0-9a-f-]{36}$/);
    assert.notEqual(first.workflowId, second.workflowId);
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
