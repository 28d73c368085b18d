import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NoRouteError, ValidationError, WorkflowNotAllowedError } from '#lib/errors.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { normalizeEventBridge } from '#lib/sources/eventbridge.ts';
import { eventBridgeEvent, fixture } from '../helpers/events.ts';

const table = compileRoutes(fixture('../../routes.json'), 'routes.json', undefined);
const contract = compileRoutes(fixture('../routes/contract.json'), 'contract.json', undefined);

describe('normalizeEventBridge', () => {
  it('routes custom events by source and detail-type', () => {
    assert.deepEqual(normalizeEventBridge(table, fixture('eventbridge/order-placed.json')), {
      workflowType: 'processOrder',
      workflowId: 'order-3001',
      taskQueue: 'orders',
      input: { orderId: '3001', customer: 'c-42', total: 99.5 },
      idReusePolicy: 'REJECT_DUPLICATE',
      idConflictPolicy: 'USE_EXISTING',
      action: 'start',
      options: {},
      target: {},
      route: 'order-events',
      eventId: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    });
  });

  it('routes scheduled events by rule name, with an ID from the tick time', () => {
    const request = normalizeEventBridge(table, fixture('eventbridge/scheduled.json'));
    assert.equal(request.workflowType, 'nightlyReport');
    assert.equal(request.workflowId, 'nightly-2026-11-29T02:00:00Z');
    assert.equal(request.taskQueue, 'reports');
    assert.equal(request.input, undefined);
    assert.equal(request.idReusePolicy, 'ALLOW_DUPLICATE');
    assert.equal(request.eventId, '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa');
  });

  it('finds the rule name on a custom bus too', () => {
    const event = fixture<Record<string, unknown>>('eventbridge/scheduled.json');
    event.resources = ['arn:aws:events:us-east-1:123456789012:rule/ops-bus/nightly-report'];
    assert.equal(normalizeEventBridge(table, event).workflowType, 'nightlyReport');
  });

  it('takes an EventBridge Scheduler input as the canonical envelope', () => {
    const request = normalizeEventBridge(table, fixture('eventbridge/scheduler-envelope.json'));
    assert.equal(request.workflowType, 'nightlyReport');
    assert.equal(request.workflowId, 'nightly-report-2026-11-29T02:00:00Z');
    assert.deepEqual(request.input, { scope: 'all-tenants' });
    assert.equal(request.eventId, request.workflowId, 'a retried attempt of the tick is the same request');
  });

  it('requires a workflow ID in a bare envelope, since nothing else identifies the tick', () => {
    assert.throws(() => normalizeEventBridge(table, { workflowType: 'nightlyReport' }), ValidationError);
  });

  it('takes a canonical envelope from the detail of an unrouted event, with the event ID as default', () => {
    const event = eventBridgeEvent(
      { workflowType: 'processOrder', input: { a: 1 } },
      { source: 'com.example.other', 'detail-type': 'Anything' },
    );
    const request = normalizeEventBridge(table, event);
    assert.equal(request.workflowId, `processOrder-${event.id}`);
    assert.deepEqual(request.input, { a: 1 });
  });

  it('fails unrouted events, unknown rules, unknown types and non-events', () => {
    assert.throws(
      () => normalizeEventBridge(table, eventBridgeEvent({ orderId: '1' }, { source: 'com.example.other' })),
      NoRouteError,
    );
    const tick = fixture<Record<string, unknown>>('eventbridge/scheduled.json');
    tick.resources = ['arn:aws:events:us-east-1:123456789012:rule/unknown'];
    assert.throws(() => normalizeEventBridge(table, tick), NoRouteError);
    assert.throws(
      () => normalizeEventBridge(table, { workflowType: 'dropTables', workflowId: 'x' }),
      WorkflowNotAllowedError,
    );
    assert.throws(() => normalizeEventBridge(table, { hello: 'world' }), ValidationError);
  });

  it('routes by equality on detail fields, nested objects included, and names the workflow by event ID', () => {
    const paid = eventBridgeEvent(
      { orderId: '7', status: 'paid', card: 'visa' },
      { 'detail-type': 'OrderStatusChanged' },
    );
    const request = normalizeEventBridge(contract, paid);
    assert.equal(request.route, 'paid-orders');
    assert.equal(request.workflowId, `chargeCard-${paid.id}`);

    const shipped = eventBridgeEvent(
      { orderId: '7', status: 'shipped' },
      { 'detail-type': 'OrderStatusChanged' },
    );
    assert.throws(() => normalizeEventBridge(contract, shipped), NoRouteError);
    const nested = compileRoutes(
      {
        workflows: { processOrder: { taskQueue: 'orders' } },
        routes: [
          {
            name: 'eu',
            eventbridge: {
              source: 's',
              detailType: 'd',
              detail: { address: { country: 'FR' }, tags: ['a'] },
            },
            workflowType: 'processOrder',
          },
        ],
      },
      'inline',
      undefined,
    );
    const match = (detail: unknown) => {
      try {
        return normalizeEventBridge(nested, eventBridgeEvent(detail, { source: 's', 'detail-type': 'd' }))
          .route;
      } catch {
        return undefined;
      }
    };
    assert.equal(match({ address: { country: 'FR', city: 'Lyon' }, tags: ['a'] }), 'eu');
    assert.equal(match({ address: { country: 'DE' }, tags: ['a'] }), undefined);
    assert.equal(match({ address: { country: 'FR' }, tags: ['a', 'b'] }), undefined);
    assert.equal(match({ tags: ['a'] }), undefined);
  });

  it('names a scheduled workflow by rule and tick time when the route has no template', () => {
    const request = normalizeEventBridge(contract, fixture('eventbridge/scheduled.json'));
    assert.equal(request.workflowId, 'nightlyReport-nightly-report-2026-11-29T02:00:00Z');
  });

  describe('EventBridge Scheduler', () => {
    const tick = '2026-11-29T03:00:00Z';
    const arn = 'arn:aws:scheduler:us-east-1:123456789012:schedule/ops/hourly-sync';

    it("routes Scheduler's default payload by schedule name and group, with an ID and request key from the scheduled time", () => {
      const request = normalizeEventBridge(contract, fixture('eventbridge/scheduler-default.json'));
      assert.equal(request.route, 'hourly-sync');
      assert.equal(request.workflowType, 'nightlyReport');
      assert.equal(request.workflowId, `nightlyReport-ops-hourly-sync-${tick}`);
      assert.equal(request.eventId, `${arn}@${tick}`);
      assert.deepEqual(request.input, { schedule: 'ops/hourly-sync', at: tick, detail: {} });
    });

    it('routes a templated target input that names its schedule the same way', () => {
      const request = normalizeEventBridge(contract, fixture('eventbridge/scheduler-templated.json'));
      const defaults = normalizeEventBridge(contract, fixture('eventbridge/scheduler-default.json'));
      assert.equal(request.workflowId, defaults.workflowId);
      assert.equal(request.eventId, defaults.eventId);
      assert.deepEqual(request.input, {
        schedule: 'ops/hourly-sync',
        at: tick,
        detail: { scope: 'all-tenants' },
      });
    });

    it('keys a retried attempt, whose event ID differs, as the same request', () => {
      const first = fixture<Record<string, unknown>>('eventbridge/scheduler-default.json');
      const retry = { ...first, id: 'another-execution' };
      assert.equal(
        normalizeEventBridge(contract, retry).eventId,
        normalizeEventBridge(contract, first).eventId,
      );
    });

    it('tells a schedule without a route, of another group, or without its time', () => {
      const event = fixture<Record<string, unknown>>('eventbridge/scheduler-default.json');
      assert.throws(
        () => normalizeEventBridge(contract, { ...event, resources: [arn.replace('/ops/', '/default/')] }),
        { name: 'NoRouteError', message: 'No route for Scheduler schedule default/hourly-sync' },
      );
      assert.throws(() => normalizeEventBridge(contract, { ...event, resources: [] }), ValidationError);
      assert.throws(() => normalizeEventBridge(contract, { ...event, time: undefined }), ValidationError);
      assert.throws(
        () => normalizeEventBridge(contract, { scheduleArn: arn, detail: {} }),
        /without its time/,
      );
    });
  });

  it('refuses a default workflow ID for an event without an ID, rather than "undefined"', () => {
    const event = {
      ...fixture<Record<string, unknown>>('eventbridge/order-placed.json'),
      id: undefined,
      'detail-type': 'Unrouted',
      detail: { workflowType: 'processOrder' },
    };
    assert.throws(() => normalizeEventBridge(contract, event), {
      name: 'ValidationError',
      message: 'The envelope names no workflowId, and the event has no event ID to derive one from',
    });
  });
});
