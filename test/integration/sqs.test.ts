import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { fixture, sqsEvent, sqsRecord, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

describe('sqs handler against a real Temporal server', () => {
  let stack: Stack;
  let invoke: (event: SQSEvent) => Promise<SQSBatchResponse>;

  before(async () => {
    stack = await startStack();
    // `npm test` keeps handlers at WARN; this suite reads the INFO line each start logs.
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const { handler } = await import('../../functions/sqs.ts');
    invoke = async (event) => (await handler(event, lambdaContext())) as SQSBatchResponse;
  });
  after(() => stack?.stop());

  it('starts a routed and a canonical record, and reports only the poisoned one', async () => {
    const event = fixture<SQSEvent>('sqs/orders-batch.json');
    const [routed, canonical, poisoned] = event.Records;
    const orderId = uid();
    assert.ok(routed && canonical && poisoned);
    routed.body = JSON.stringify({ orderId, amount: 42 });
    canonical.messageId = crypto.randomUUID();

    const { result, records } = await captureLogs(() => invoke(event));

    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: poisoned.messageId }] });
    const first = await stack.completed(`order-${orderId}`);
    assert.equal(first.description.type, 'processOrder');
    assert.equal(first.description.taskQueue, 'orders');
    assert.deepEqual(first.result, { processed: true, input: { orderId, amount: 42 } });
    const second = await stack.completed(`processOrder-${canonical.messageId}`);
    assert.deepEqual(second.result, { processed: true, input: { cart: ['lamp'] } });

    const failures = records.filter((record) => record.level === 'ERROR');
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.eventId, poisoned.messageId);
    assert.equal(failures[0]?.permanent, true);
    assert.equal(failures[0]?.reason, 'WorkflowNotAllowedError');
  });

  it('logs each start with its workflow and message id', async () => {
    const orderId = uid();
    const record = sqsRecord({ orderId });
    const { records } = await captureLogs(() => invoke(sqsEvent(record)));
    const started = records.find((entry) => entry.message === 'Workflow started');
    assert.equal(started?.workflowId, `order-${orderId}`);
    assert.equal(started?.eventId, record.messageId);
    assert.equal(started?.route, 'orders-queue');
    assert.equal(typeof started?.runId, 'string');
  });

  it('starts one workflow for the same message delivered twice, and counts the duplicate as success', async () => {
    const orderId = uid();
    const record = sqsRecord({ orderId });
    assert.deepEqual(await invoke(sqsEvent(record)), { batchItemFailures: [] });
    const { description } = await stack.completed(`order-${orderId}`);
    assert.deepEqual(await invoke(sqsEvent(record, { ...record, messageId: crypto.randomUUID() })), {
      batchItemFailures: [],
    });

    // The latest run of that ID is still the first one: no second run was started.
    const latest = await stack.client.workflow.getHandle(`order-${orderId}`).describe();
    assert.equal(latest.runId, description.runId);
  });

  it('reports every record of a batch that fails as a whole, without throwing', async () => {
    const bad = [
      sqsRecord({ x: 1 }, { attributes: {} }),
      sqsRecord({ orderId: uid() }, { queue: 'unknown', attributes: {} }),
    ];
    const { result } = await captureLogs(() => invoke(sqsEvent(...bad)));
    assert.deepEqual(result, {
      batchItemFailures: bad.map((record) => ({ itemIdentifier: record.messageId })),
    });
  });

  it('logs a failure with its message id and reason, never its body', async () => {
    const secret = `card-${uid()}`;
    const record = sqsRecord({ card: secret }, { attributes: { kind: 'order' } });
    const { lines, records } = await captureLogs(() => invoke(sqsEvent(record)));
    assert.ok(!lines.some((line) => line.includes(secret)));
    const failure = records.find((entry) => entry.eventId === record.messageId);
    assert.equal(failure?.reason, 'TemplateError');
    assert.equal(failure?.permanent, true);
    assert.match(String(failure?.message), /permanently/);
  });
});
