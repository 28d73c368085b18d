import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowResult } from '#lib/actions.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { eventBridgeEvent, fixture, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

describe('EventBridge routes by detail, with default workflow IDs, against a real Temporal server', () => {
  let stack: Stack;
  let invoke: (event: unknown) => Promise<WorkflowResult>;

  before(async () => {
    stack = await startStack();
    process.env.ROUTES_FILE = new URL('../routes/contract.json', import.meta.url).pathname;
    const { handler } = await import('../../functions/eventbridge.ts');
    invoke = (event) => handler(event, lambdaContext()) as Promise<WorkflowResult>;
  });
  after(() => stack?.stop());

  it('starts the route whose detail fields match, named {workflowType}-{event id}, once per event', async () => {
    const event = eventBridgeEvent(
      { orderId: uid(), status: 'paid', card: 'visa' },
      { 'detail-type': 'OrderStatusChanged' },
    );
    const first = await invoke(event);
    assert.equal(first.workflowId, `chargeCard-${event.id}`);
    const { description, result } = await stack.completed(first.workflowId);
    assert.equal(description.type, 'chargeCard');
    assert.deepEqual(result, { charged: true });

    const redelivered = await invoke(event);
    assert.equal(redelivered.runId, first.runId);
  });

  it('fails an event whose detail matches no route, permanently and loudly', async () => {
    const event = eventBridgeEvent(
      { orderId: uid(), status: 'shipped' },
      { 'detail-type': 'OrderStatusChanged' },
    );
    const { records } = await captureLogs(() =>
      assert.rejects(invoke(event), (error: Error) => error.name === 'NoRouteError'),
    );
    assert.equal(records.find((record) => record.eventId === event.id)?.permanent, true);
    assert.equal(await stack.exists(`chargeCard-${event.id}`), false);
  });

  it('names a scheduled run by rule and tick time, and starts one run when the tick is delivered twice', async () => {
    const tick = fixture<Record<string, unknown>>('eventbridge/scheduled.json');
    tick.id = crypto.randomUUID();
    tick.time = new Date(Date.UTC(2028, 0, 1) + Math.floor(Math.random() * 1e10)).toISOString();
    const [first, second] = await Promise.all([invoke(tick), invoke({ ...tick })]);
    assert.equal(first.workflowId, `nightlyReport-nightly-report-${tick.time}`);
    assert.equal(second.runId, first.runId);
    await stack.completed(first.workflowId);
    const again = await invoke({ ...tick });
    assert.equal(again.runId, first.runId);
  });

  it('starts a Scheduler tick from its default payload by schedule name and group, once across retried attempts and a templated input', async () => {
    const time = new Date(Date.now() - Math.floor(Math.random() * 1e9)).toISOString().replace(/\.\d+Z$/, 'Z');
    const tick = { ...fixture<Record<string, unknown>>('eventbridge/scheduler-default.json'), time };
    const first = await invoke(tick);
    assert.equal(first.workflowId, `nightlyReport-ops-hourly-sync-${time}`);
    const { result } = await stack.completed(first.workflowId);
    assert.deepEqual(result, {
      reported: true,
      input: { schedule: 'ops/hourly-sync', at: time, detail: {} },
    });

    // nightlyReport allows duplicate IDs: only the request ID keeps a retried attempt to one run.
    const retried = await invoke({ ...tick, id: crypto.randomUUID() });
    const templated = await invoke({
      ...fixture<Record<string, unknown>>('eventbridge/scheduler-templated.json'),
      scheduledTime: time,
    });
    assert.equal(retried.runId, first.runId);
    assert.equal(templated.runId, first.runId);
    assert.equal((await stack.runs(first.workflowId)).length, 1);
  });
});
