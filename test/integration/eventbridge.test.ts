import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowResult } from '#lib/actions.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { eventBridgeEvent, fixture, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

describe('eventbridge handler against a real Temporal server', () => {
  let stack: Stack;
  let invoke: (event: unknown) => Promise<WorkflowResult>;
  let handlerWithTimeout: (event: unknown) => Promise<WorkflowResult>;

  before(async () => {
    stack = await startStack();
    const { handler } = await import('../../functions/eventbridge.ts');
    invoke = (event) => handler(event, lambdaContext()) as Promise<WorkflowResult>;
    handlerWithTimeout = (event) =>
      handler(event, lambdaContext({ timeoutMs: 3_000 })) as Promise<WorkflowResult>;
  });
  after(() => stack?.stop());

  it('starts the routed workflow for a custom event', async () => {
    const orderId = uid();
    const event = eventBridgeEvent({ orderId, customer: 'c-42' });
    const outcome = await invoke(event);
    assert.equal(outcome.started, true);
    assert.equal(outcome.workflowId, `order-${orderId}`);
    const { description, result } = await stack.completed(`order-${orderId}`);
    assert.equal(description.type, 'processOrder');
    assert.equal(description.taskQueue, 'orders');
    assert.deepEqual(result, { processed: true, input: { orderId, customer: 'c-42' } });
  });

  it('starts one run per tick of a scheduled rule, even when the tick is redelivered after the run closed', async () => {
    // nightlyReport's reuse policy is ALLOW_DUPLICATE: only the request ID derived from the event ID
    // keeps the redelivered tick from starting a second run.
    const tick = fixture<Record<string, unknown>>('eventbridge/scheduled.json');
    tick.id = crypto.randomUUID();
    tick.time = new Date(Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 1e10)).toISOString();
    const first = await invoke(tick);
    assert.equal(first.started, true);
    assert.equal(first.workflowId, `nightly-${tick.time}`);
    assert.equal(first.taskQueue, 'reports');
    const { description, result } = await stack.completed(first.workflowId);
    assert.equal(description.type, 'nightlyReport');
    assert.deepEqual(result, { reported: true });

    const again = await invoke(tick);
    assert.equal(again.runId, first.runId);
    const latest = await stack.client.workflow.getHandle(first.workflowId).describe();
    assert.equal(latest.runId, first.runId);
  });

  it('starts a new run for a different event under ALLOW_DUPLICATE, as that policy asks', async () => {
    const tick = fixture<Record<string, unknown>>('eventbridge/scheduled.json');
    tick.time = new Date(Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 1e10)).toISOString();
    const first = await invoke({ ...tick, id: crypto.randomUUID() });
    await stack.completed(first.workflowId);
    const second = await invoke({ ...tick, id: crypto.randomUUID() });
    assert.equal(second.started, true);
    assert.notEqual(second.runId, first.runId);
  });

  it('starts the workflow an EventBridge Scheduler envelope names', async () => {
    const envelope = fixture<Record<string, unknown>>('eventbridge/scheduler-envelope.json');
    envelope.workflowId = `nightly-report-${uid()}`;
    const outcome = await invoke(envelope);
    assert.equal(outcome.workflowType, 'nightlyReport');
    const { result } = await stack.completed(outcome.workflowId);
    assert.deepEqual(result, { reported: true, input: { scope: 'all-tenants' } });
  });

  it('starts one run for a retried Scheduler attempt of one tick, after the run closed, under ALLOW_DUPLICATE', async () => {
    // What EventBridge Scheduler sends when the target input is
    // {"workflowType": "nightlyReport", "workflowId": "nightly-report-<aws.scheduler.scheduled-time>"}.
    const envelope = fixture<Record<string, unknown>>('eventbridge/scheduler-envelope.json');
    envelope.workflowId = `nightly-report-${new Date(Date.UTC(2027, 0, 1) + Math.floor(Math.random() * 1e10)).toISOString()}`;
    const first = await invoke(envelope);
    await stack.completed(first.workflowId);
    const retried = await invoke({ ...envelope });
    assert.equal(retried.runId, first.runId);
    const latest = await stack.client.workflow.getHandle(first.workflowId).describe();
    assert.equal(latest.runId, first.runId);
  });

  it('logs and throws a permanent failure, so the event reaches the on-failure destination', async () => {
    const event = eventBridgeEvent({ orderId: uid() }, { source: 'com.example.unknown' });
    const { records } = await captureLogs(() =>
      assert.rejects(invoke(event), (error: Error) => error.name === 'NoRouteError'),
    );
    const failure = records.find((record) => record.eventId === event.id);
    assert.equal(failure?.permanent, true);
    assert.equal(failure?.reason, 'NoRouteError');
  });

  it('logs and throws a transient failure as transient, so Lambda retries the event', async () => {
    const { closeTemporal } = await import('#lib/temporal/client.ts');
    const { resetConfig } = await import('#lib/config.ts');
    const address = process.env.TEMPORAL_ADDRESS;
    await closeTemporal();
    // A port nothing listens on: the connect is refused.
    const { freePort } = await import('../../scripts/temporalServer.ts');
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${await freePort()}`;
    resetConfig();
    try {
      const event = eventBridgeEvent({ orderId: uid() });
      const { records } = await captureLogs(() =>
        assert.rejects(
          handlerWithTimeout(event),
          (error: Error) =>
            error.name === 'TemporalUnavailableError' || error.name === 'DeadlineExceededError',
        ),
      );
      const failure = records.find((record) => record.eventId === event.id);
      assert.equal(failure?.permanent, false);
      assert.equal(failure?.message, 'Event failed, will be retried');
    } finally {
      process.env.TEMPORAL_ADDRESS = address;
      resetConfig();
      await closeTemporal();
    }
  });
});
