import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Context } from 'aws-lambda';
import type { StreamBatchResponse, StreamEvent } from '#lib/sources/streams.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { dynamodbEvent, dynamodbRecord, kinesisEvent, kinesisRecord, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const sequenceNumbers = (response: StreamBatchResponse) =>
  response.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier);

/** An order row in DynamoDB JSON. */
const orderItem = (orderId: string, status: string) => ({
  orderId: { S: orderId },
  status: { S: status },
  total: { N: '129.95' },
  lines: { L: [{ M: { sku: { S: 'lamp' }, qty: { N: '2' } } }] },
  gift: { BOOL: true },
  tags: { SS: ['new'] },
});

/** The same row as the workflow gets it: plain JSON. */
const plainOrder = (orderId: string, status: string) => ({
  orderId,
  status,
  total: 129.95,
  lines: [{ sku: 'lamp', qty: 2 }],
  gift: true,
  tags: ['new'],
});

describe('Kinesis and DynamoDB stream batches against a real Temporal server', () => {
  let stack: Stack;
  let invoke: (event: StreamEvent, context?: Context) => Promise<StreamBatchResponse>;

  before(async () => {
    stack = await startStack();
    process.env.ROUTES_FILE = new URL('../routes/contract.json', import.meta.url).pathname;
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const { handler } = await import('../../functions/streams.ts');
    invoke = async (event, context = lambdaContext()) =>
      (await handler(event, context)) as StreamBatchResponse;
  });
  after(() => stack?.stop());

  describe('Kinesis', () => {
    it('starts a workflow per record, and a redelivery of the batch starts nothing new', async () => {
      const orderIds = [uid(), uid(), uid()];
      const event = kinesisEvent(...orderIds.map((orderId) => kinesisRecord({ orderId })));

      const first = await captureLogs(() => invoke(event));
      assert.deepEqual(first.result, { batchItemFailures: [] });
      const runs = new Map<string, string[]>();
      for (const orderId of orderIds) {
        const { description, result } = await stack.completed(`order-${orderId}`);
        assert.equal(description.type, 'processOrder');
        assert.equal(description.taskQueue, 'orders');
        assert.deepEqual(result, { processed: true, input: { orderId } });
        runs.set(orderId, await stack.runs(`order-${orderId}`));
      }

      const again = await captureLogs(() => invoke(event));
      assert.deepEqual(again.result, { batchItemFailures: [] });
      for (const orderId of orderIds) {
        assert.deepEqual(await stack.runs(`order-${orderId}`), runs.get(orderId), 'the same single run');
      }
    });

    it('reports a record with bad JSON and every later record of its shard, starting none of them, while the other shard goes on', async () => {
      const [a1, a3, b1, b2] = [uid(), uid(), uid(), uid()];
      const shardA = { shardId: 'shardId-000000000001' };
      const shardB = { shardId: 'shardId-000000000002' };
      const poisoned = kinesisRecord('{"orderId": ', shardA);
      const later = kinesisRecord({ orderId: a3 }, shardA);
      const event = kinesisEvent(
        kinesisRecord({ orderId: a1 }, shardA),
        kinesisRecord({ orderId: b1 }, shardB),
        poisoned,
        kinesisRecord({ orderId: b2 }, shardB),
        later,
      );

      const { result, records } = await captureLogs(() => invoke(event));

      assert.deepEqual(sequenceNumbers(result), [
        poisoned.kinesis.sequenceNumber,
        later.kinesis.sequenceNumber,
      ]);
      for (const orderId of [a1, b1, b2]) assert.equal(await stack.exists(`order-${orderId}`), true, orderId);
      assert.equal(await stack.exists(`order-${a3}`), false, 'a later record of the shard is never started');
      const failures = records.filter((entry) => entry.level === 'ERROR');
      assert.deepEqual(
        failures.map((entry) => [entry.eventId, entry.reason, entry.permanent]),
        [[`${poisoned.eventSourceARN}/${poisoned.eventID}`, 'MalformedJsonError', true]],
      );
    });

    it('reports every record, starting none, when the invocation has too little time left', async () => {
      const orderIds = [uid(), uid()];
      const event = kinesisEvent(...orderIds.map((orderId) => kinesisRecord({ orderId })));
      const { result } = await captureLogs(() => invoke(event, lambdaContext({ timeoutMs: 1_200 })));
      assert.deepEqual(
        sequenceNumbers(result),
        event.Records.map((record) => record.kinesis.sequenceNumber),
      );
      for (const orderId of orderIds) assert.equal(await stack.exists(`order-${orderId}`), false);
    });
  });

  describe('DynamoDB', () => {
    it('starts an INSERT with its new image as plain JSON, and a redelivery starts nothing new', async () => {
      const orderId = uid();
      const event = dynamodbEvent(
        dynamodbRecord('INSERT', { keys: { orderId: { S: orderId } }, newImage: orderItem(orderId, 'new') }),
      );

      assert.deepEqual((await captureLogs(() => invoke(event))).result, { batchItemFailures: [] });
      const { result } = await stack.completed(`order-created-${orderId}`);
      assert.deepEqual(result, {
        processed: true,
        input: plainOrder(orderId, 'new'),
      });
      const runs = await stack.runs(`order-created-${orderId}`);

      assert.deepEqual((await captureLogs(() => invoke(event))).result, { batchItemFailures: [] });
      assert.deepEqual(await stack.runs(`order-created-${orderId}`), runs);
    });

    it('routes INSERT and MODIFY to their own routes; a MODIFY is named by its event ID', async () => {
      const orderId = uid();
      const keys = { orderId: { S: orderId } };
      const insert = dynamodbRecord('INSERT', { keys, newImage: orderItem(orderId, 'new') });
      const modify = dynamodbRecord('MODIFY', {
        keys,
        newImage: orderItem(orderId, 'paid'),
        oldImage: orderItem(orderId, 'new'),
      });

      const { result } = await captureLogs(() => invoke(dynamodbEvent(insert, modify)));

      assert.deepEqual(result, { batchItemFailures: [] });
      assert.equal((await stack.completed(`order-created-${orderId}`)).description.type, 'processOrder');
      const changed = await stack.completed(`processOrder-${modify.eventID}`);
      assert.deepEqual(changed.result, {
        processed: true,
        input: {
          change: 'MODIFY',
          orderId,
          before: plainOrder(orderId, 'new'),
        },
      });
    });

    it('reports a record missing a template path and every later record, starting none of them', async () => {
      const [first, last] = [uid(), uid()];
      const ok = dynamodbRecord('INSERT', {
        keys: { orderId: { S: first } },
        newImage: orderItem(first, 'new'),
      });
      // The MODIFY route reads {keys.orderId}: this record's keys lack it.
      const poisoned = dynamodbRecord('MODIFY', {
        keys: { id: { S: uid() } },
        oldImage: orderItem(uid(), 'new'),
      });
      const later = dynamodbRecord('INSERT', {
        keys: { orderId: { S: last } },
        newImage: orderItem(last, 'new'),
      });

      const { result, records } = await captureLogs(() => invoke(dynamodbEvent(ok, poisoned, later)));

      assert.deepEqual(sequenceNumbers(result), [
        poisoned.dynamodb?.SequenceNumber,
        later.dynamodb?.SequenceNumber,
      ]);
      assert.equal(await stack.exists(`order-created-${first}`), true);
      assert.equal(await stack.exists(`order-created-${last}`), false, 'a later record is never started');
      const failure = records.find((entry) => entry.level === 'ERROR');
      assert.deepEqual(
        [failure?.eventId, failure?.reason, failure?.permanent],
        [`${poisoned.eventSourceARN}/${poisoned.eventID}`, 'TemplateError', true],
      );
    });

    it('reports every record, starting none, when the invocation has too little time left', async () => {
      const orderId = uid();
      const event = dynamodbEvent(
        dynamodbRecord('INSERT', { keys: { orderId: { S: orderId } }, newImage: orderItem(orderId, 'new') }),
      );
      const { result } = await captureLogs(() => invoke(event, lambdaContext({ timeoutMs: 1_200 })));
      assert.deepEqual(sequenceNumbers(result), [event.Records[0]?.dynamodb?.SequenceNumber]);
      assert.equal(await stack.exists(`order-created-${orderId}`), false);
    });
  });
});
