import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { resetConfig } from '#lib/config.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { processSqsBatch } from '#lib/sources/sqs.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { fixture, sqsEvent, sqsRecord } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { recordingStart } from '../helpers/starts.ts';

const routes = compileRoutes(fixture('../routes/contract.json'), 'contract.json', undefined);

const fifoRecord = (orderId: string, group: string): SQSRecord => {
  const record = sqsRecord({ orderId }, { queue: 'orders.fifo', attributes: {}, messageId: `m-${orderId}` });
  return { ...record, attributes: { ...record.attributes, MessageGroupId: group } };
};

const ids = (event: SQSEvent, ...orderIds: string[]) =>
  event.Records.filter((record) => orderIds.includes(JSON.parse(record.body).orderId)).map((record) => ({
    itemIdentifier: record.messageId,
  }));

describe('processSqsBatch', () => {
  afterEach(() => {
    delete process.env.SQS_CONCURRENCY;
    resetConfig();
  });

  it('starts the records of a standard queue concurrently, all ten at once by default', async () => {
    const recording = recordingStart({ delayMs: 20 });
    const event = sqsEvent(...Array.from({ length: 10 }, (_, index) => sqsRecord({ orderId: `o${index}` })));
    const response = await processSqsBatch(routes, event, lambdaContext(), recording.start);
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.equal(recording.maxInFlight(), 10);
  });

  it('never has more than SQS_CONCURRENCY starts in flight', async () => {
    process.env.SQS_CONCURRENCY = '3';
    const recording = recordingStart();
    const event = sqsEvent(...Array.from({ length: 10 }, (_, index) => sqsRecord({ orderId: `o${index}` })));
    await processSqsBatch(routes, event, lambdaContext(), recording.start);
    assert.equal(recording.order.length, 10);
    assert.equal(recording.maxInFlight(), 3);
  });

  it('keeps FIFO order, one at a time; a failure reports its group from there on and skips the rest', async () => {
    const recording = recordingStart({ fail: (orderId) => orderId === 'a2' });
    const event = sqsEvent(
      fifoRecord('a1', 'A'),
      fifoRecord('b1', 'B'),
      fifoRecord('a2', 'A'),
      fifoRecord('b2', 'B'),
      fifoRecord('a3', 'A'),
      fifoRecord('b3', 'B'),
    );
    const { result, records } = await captureLogs(() =>
      processSqsBatch(routes, event, lambdaContext(), recording.start),
    );
    assert.deepEqual(recording.order, ['a1', 'b1', 'a2', 'b2', 'b3']);
    assert.equal(recording.maxInFlight(), 1);
    assert.deepEqual(result, { batchItemFailures: ids(event, 'a2', 'a3') });
    const skipped = records.find((entry) => String(entry.message).startsWith('Messages not started'));
    assert.deepEqual(skipped?.messageIds, ['m-a3']);
  });

  it('reports, without starting them, the records whose turn comes too close to the deadline', async () => {
    process.env.SQS_CONCURRENCY = '1';
    const recording = recordingStart();
    const event = sqsEvent(
      sqsRecord({ orderId: 'o1' }),
      sqsRecord({ orderId: 'o2' }),
      sqsRecord({ orderId: 'o3' }),
    );
    // Time runs short once the first record has started.
    const context = {
      ...lambdaContext(),
      getRemainingTimeInMillis: () => (recording.order.length > 0 ? 1_400 : 20_000),
    };
    const { result, records } = await captureLogs(() =>
      processSqsBatch(routes, event, context, recording.start),
    );
    assert.deepEqual(recording.order, ['o1']);
    assert.deepEqual(result, { batchItemFailures: ids(event, 'o2', 'o3') });
    const cutOff = records.filter((entry) => entry.reason === 'DeadlineExceededError');
    assert.equal(cutOff.length, 2);
    assert.ok(cutOff.every((entry) => entry.permanent === false));
  });
});
