import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeadlineExceededError,
  MalformedJsonError,
  MethodNotAllowedError,
  NoRouteError,
  StartFailedError,
  TemplateError,
  TemporalUnavailableError,
  WorkflowNotAllowedError,
} from '#lib/errors.ts';
import { actionResponse, problemResponse } from '#lib/http/response.ts';

const started = {
  action: 'start',
  workflowId: 'order/1',
  runId: 'run-1',
  workflowType: 'processOrder',
  taskQueue: 'orders',
  namespace: 'default',
} as const;

describe('actionResponse', () => {
  it('answers a new run with 202 and a Location header', () => {
    const response = actionResponse({ ...started, started: true });
    assert.equal(response.statusCode, 202);
    assert.equal(response.headers.location, '/workflows/order%2F1');
    assert.deepEqual(JSON.parse(String(response.body)), { ...started, started: true });
  });

  it('answers an existing workflow with 200 and started: false', () => {
    const response = actionResponse({ ...started, started: false });
    assert.equal(response.statusCode, 200);
    assert.equal(JSON.parse(String(response.body)).started, false);
  });

  it('answers a delivered signal and an accepted update with 202, a finished update with 200', () => {
    const signalled = { ...started, action: 'signalWithStart', started: false, signal: 'addItem' } as const;
    assert.equal(actionResponse(signalled).statusCode, 202);
    const update = { id: 'u-1', name: 'checkout' };
    const accepted = {
      ...started,
      action: 'update',
      started: false,
      update: { ...update, status: 'ACCEPTED' },
    } as const;
    assert.equal(actionResponse(accepted).statusCode, 202);
    for (const status of ['COMPLETED', 'FAILED'] as const) {
      const done = { ...accepted, update: { ...update, status } };
      assert.equal(actionResponse(done).statusCode, 200, status);
    }
    const startedWithUpdate = {
      ...accepted,
      action: 'updateWithStart',
      started: true,
      update: { ...update, status: 'COMPLETED' },
    } as const;
    assert.equal(
      actionResponse(startedWithUpdate).statusCode,
      200,
      'the update is what the caller waits for',
    );
  });
});

describe('problemResponse', () => {
  const body = (response: ReturnType<typeof problemResponse>) => JSON.parse(String(response.body));

  it('maps each error to its status as application/problem+json', () => {
    const cases: [Error, number][] = [
      [new MalformedJsonError('bad'), 400],
      [new WorkflowNotAllowedError('x'), 403],
      [new NoRouteError('none'), 404],
      [new MethodNotAllowedError('no', ['POST']), 405],
      [new TemplateError('r', 'body.id'), 422],
      [new TemporalUnavailableError('down'), 503],
      [new DeadlineExceededError('late'), 504],
    ];
    for (const [error, status] of cases) {
      const response = problemResponse(error, 'req-1');
      assert.equal(response.statusCode, status, error.name);
      assert.equal(response.headers['content-type'], 'application/problem+json');
      assert.equal(body(response).status, status);
      assert.equal(body(response).instance, 'req-1');
    }
  });

  it('shows the detail of client errors', () => {
    const problem = body(problemResponse(new TemplateError('orders-api', 'body.orderId')));
    assert.equal(problem.title, 'Template path missing');
    assert.equal(problem.type, 'urn:temporal-triggers:problem:template');
    assert.match(problem.detail, /orders-api.*body\.orderId/);
  });

  it('adds Retry-After to 503 and Allow to 405', () => {
    assert.equal(problemResponse(new TemporalUnavailableError('down')).headers['retry-after'], '1');
    assert.equal(
      problemResponse(new MethodNotAllowedError('no', ['POST', 'GET'])).headers.allow,
      'POST, GET',
    );
  });

  it('never shows the message of server errors or unknown errors', () => {
    const internal = problemResponse(new TemporalUnavailableError('dial tcp 10.0.0.7:7233: refused'));
    assert.ok(!String(internal.body).includes('10.0.0.7'));
    const failed = problemResponse(new StartFailedError('stack trace here'));
    assert.equal(failed.statusCode, 500);
    assert.ok(!String(failed.body).includes('stack trace'));
    const unknown = problemResponse(new TypeError('cannot read x of undefined'));
    assert.equal(unknown.statusCode, 500);
    assert.deepEqual(body(unknown), { type: 'about:blank', title: 'Internal Server Error', status: 500 });
  });
});
