import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { sqsEvent, sqsRecord, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const fifoRecord = (body: unknown, group: string): SQSRecord => {
  const record = sqsRecord(body, { queue: 'orders.fifo', attributes: {} });
  return { ...record, attributes: { ...record.attributes, MessageGroupId: group } };
};

describe('SQS batches against a real Temporal server', () => {
  let stack: Stack;
  let invoke: (event: SQSEvent) => Promise<SQSBatchResponse>;

  before(async () => {
    stack = await startStack();
    process.env.ROUTES_FILE = new URL('../routes/contract.json', import.meta.url).pathname;
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const { handler } = await import('../../functions/sqs.ts');
    invoke = async (event) => (await handler(event, lambdaContext())) as SQSBatchResponse;
  });
  after(() => stack?.stop());

  it('starts nine of a batch of ten and reports only the poisoned record, logged once as permanent', async () => {
    const orderIds = Array.from({ length: 9 }, () => uid());
    const poisoned = sqsRecord({ orderId: uid() }, { attributes: { workflowType: 'dropTables' } });
    const records = orderIds.map((orderId) => sqsRecord({ orderId }));
    records.splice(4, 0, poisoned);

    const { result, records: logs } = await captureLogs(() => invoke(sqsEvent(...records)));

    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: poisoned.messageId }] });
    for (const orderId of orderIds) {
      assert.deepEqual((await stack.completed(`order-${orderId}`)).result, {
        processed: true,
        input: { orderId },
      });
    }
    const failures = logs.filter((entry) => entry.eventId === poisoned.messageId && entry.level === 'ERROR');
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.permanent, true);
    assert.equal(failures[0]?.message, 'Event failed permanently');
  });

  it('fails bad JSON, a missing template path and a type outside the allow-list permanently, naming each message', async () => {
    const badJson = sqsRecord('{"orderId": ', {});
    const missingPath = sqsRecord({ sku: 'no-order-id' });
    const notAllowed = sqsRecord({}, { attributes: { workflowType: 'dropTables' } });
    const { result, records } = await captureLogs(() => invoke(sqsEvent(badJson, missingPath, notAllowed)));

    assert.deepEqual(
      result.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier),
      [badJson.messageId, missingPath.messageId, notAllowed.messageId],
    );
    const reasons = Object.fromEntries(
      records
        .filter((entry) => entry.level === 'ERROR')
        .map((entry) => [entry.eventId, [entry.reason, entry.permanent]]),
    );
    assert.deepEqual(reasons, {
      [badJson.messageId]: ['MalformedJsonError', true],
      [missingPath.messageId]: ['TemplateError', true],
      [notAllowed.messageId]: ['WorkflowNotAllowedError', true],
    });
  });

  it('keeps FIFO order: a failure in one group reports it and its later records, and the other group goes on', async () => {
    const [a1, a3, b1, b2] = [uid(), uid(), uid(), uid()];
    const records = [
      fifoRecord({ orderId: a1 }, 'A'),
      fifoRecord({ orderId: b1 }, 'B'),
      fifoRecord({ sku: 'no-order-id' }, 'A'),
      fifoRecord({ orderId: b2 }, 'B'),
      fifoRecord({ orderId: a3 }, 'A'),
    ];
    const { result } = await captureLogs(() => invoke(sqsEvent(...records)));

    assert.deepEqual(result, {
      batchItemFailures: [records[2], records[4]].map((record) => ({ itemIdentifier: record?.messageId })),
    });
    for (const orderId of [a1, b1, b2]) assert.equal(await stack.exists(`order-${orderId}`), true, orderId);
    assert.equal(
      await stack.exists(`order-${a3}`),
      false,
      'a later record of the failed group is never started',
    );
  });

  it('starts one workflow for the same message twice in a batch, and for two messages with one business key', async () => {
    const orderId = uid();
    const record = sqsRecord({ orderId });
    const sameKey = sqsRecord({ orderId });
    const { result, records } = await captureLogs(() => invoke(sqsEvent(record, record, sameKey)));

    assert.deepEqual(result, { batchItemFailures: [] });
    const runIds = new Set(
      records.filter((entry) => entry.workflowId === `order-${orderId}`).map((entry) => entry.runId),
    );
    assert.equal(runIds.size, 1);
    await stack.completed(`order-${orderId}`);
    assert.deepEqual(await stack.runs(`order-${orderId}`), [...runIds]);
  });

  it('starts one workflow when two invocations race to start the same ID', async () => {
    const orderId = uid();
    const [first, second] = await Promise.all([
      invoke(sqsEvent(sqsRecord({ orderId }))),
      invoke(sqsEvent(sqsRecord({ orderId }))),
    ]);
    assert.deepEqual([first, second], [{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    await stack.completed(`order-${orderId}`);
    assert.equal((await stack.runs(`order-${orderId}`)).length, 1);
  });

  it('reports every record, starting none, when the invocation has too little time left', async () => {
    const orderIds = [uid(), uid()];
    const { handler } = await import('../../functions/sqs.ts');
    const event = sqsEvent(...orderIds.map((orderId) => sqsRecord({ orderId })));
    const { result } = await captureLogs(
      async () => (await handler(event, lambdaContext({ timeoutMs: 1_200 }))) as SQSBatchResponse,
    );
    assert.deepEqual(
      result.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier),
      event.Records.map((record) => record.messageId),
    );
    for (const orderId of orderIds) assert.equal(await stack.exists(`order-${orderId}`), false);
  });
});
