import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SQSEvent } from 'aws-lambda';
import { MalformedJsonError, NoRouteError, WorkflowNotAllowedError } from '#lib/errors.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { normalizeSqsRecord } from '#lib/sources/sqs.ts';
import { fixture, sqsRecord } from '../helpers/events.ts';

const table = compileRoutes(fixture('../../routes.json'), 'routes.json', undefined);

describe('normalizeSqsRecord', () => {
  const [routed, canonical, poisoned] = fixture<SQSEvent>('sqs/orders-batch.json').Records;

  it('routes by queue name and message attributes', () => {
    assert.deepEqual(normalizeSqsRecord(table, routed as never), {
      workflowType: 'processOrder',
      workflowId: 'order-2001',
      taskQueue: 'orders',
      input: { orderId: '2001', amount: 42 },
      idReusePolicy: 'REJECT_DUPLICATE',
      idConflictPolicy: 'USE_EXISTING',
      action: 'start',
      options: {},
      target: {},
      route: 'orders-queue',
      eventId: '059f36b4-87a3-44ab-83d2-661975830a7d',
    });
  });

  it('uses the canonical envelope when no route matches: type from the attribute, ID from the message ID', () => {
    const request = normalizeSqsRecord(table, canonical as never);
    assert.equal(request.workflowType, 'processOrder');
    assert.equal(request.workflowId, 'processOrder-2e1424d4-f796-459a-8184-9c92662be6da');
    assert.deepEqual(request.input, { cart: ['lamp'] });
    assert.equal(request.route, 'canonical');
  });

  it('takes the workflow ID from the workflowId attribute when present', () => {
    const record = sqsRecord(
      { a: 1 },
      { attributes: { workflowType: 'processOrder', workflowId: 'order-77' } },
    );
    assert.equal(normalizeSqsRecord(table, record).workflowId, 'order-77');
  });

  it('refuses types outside the allow-list', () => {
    assert.throws(() => normalizeSqsRecord(table, poisoned as never), WorkflowNotAllowedError);
  });

  it('needs a route or a workflowType attribute', () => {
    assert.throws(
      () => normalizeSqsRecord(table, sqsRecord({ orderId: '1' }, { attributes: {} })),
      NoRouteError,
    );
    assert.throws(
      () =>
        normalizeSqsRecord(
          table,
          sqsRecord({ orderId: '1' }, { queue: 'other', attributes: { kind: 'order' } }),
        ),
      NoRouteError,
    );
  });

  it('fails a body that is not JSON permanently, naming the message and not quoting the body', () => {
    const record = sqsRecord('{"orderId": secret', { messageId: 'm-1' });
    assert.throws(
      () => normalizeSqsRecord(table, record),
      (error: unknown) =>
        error instanceof MalformedJsonError &&
        error.permanent &&
        error.message.includes('m-1') &&
        !error.message.includes('secret'),
    );
  });

  it('names the workflow by the message ID when the route has no workflow ID template', () => {
    const routes = compileRoutes(
      {
        workflows: { processOrder: { taskQueue: 'orders' } },
        routes: [{ name: 'q', sqs: { queue: 'orders' }, workflowType: 'processOrder' }],
      },
      'inline',
      undefined,
    );
    const request = normalizeSqsRecord(routes, sqsRecord({}, { messageId: 'm-2' }));
    assert.equal(request.workflowId, 'processOrder-m-2');
  });
});
