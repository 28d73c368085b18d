import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRoutes } from '#lib/routes/validate.ts';
import { processStreamBatch } from '#lib/sources/streams.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { dynamodbEvent, dynamodbRecord, fixture, kinesisEvent, kinesisRecord } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { recordingStart } from '../helpers/starts.ts';

const routes = compileRoutes(fixture('../routes/contract.json'), 'contract.json', undefined);

const shardRecord = (orderId: string, shard: string) =>
  kinesisRecord({ orderId }, { shardId: `shardId-00000000000${shard}` });

const reported = (...records: { kinesis: { sequenceNumber: string } }[]) => ({
  batchItemFailures: records.map(({ kinesis }) => ({ itemIdentifier: kinesis.sequenceNumber })),
});

describe('processStreamBatch', () => {
  it('starts the records one at a time, in order', async () => {
    const recording = recordingStart();
    const event = kinesisEvent(...['o1', 'o2', 'o3', 'o4'].map((orderId) => shardRecord(orderId, '1')));
    const response = await processStreamBatch(routes, event, lambdaContext(), recording.start);
    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(recording.order, ['o1', 'o2', 'o3', 'o4']);
    assert.equal(recording.maxInFlight(), 1);
  });

  it('reports a failed record and every later record of its shard, never starting those, while the other shard goes on', async () => {
    const recording = recordingStart({ fail: (orderId) => orderId === 'a2' });
    const [a1, b1, a2, b2, a3, b3] = [
      shardRecord('a1', '1'),
      shardRecord('b1', '2'),
      shardRecord('a2', '1'),
      shardRecord('b2', '2'),
      shardRecord('a3', '1'),
      shardRecord('b3', '2'),
    ];
    const { result, records } = await captureLogs(() =>
      processStreamBatch(
        routes,
        kinesisEvent(a1, b1, a2, b2, a3, b3) as never,
        lambdaContext(),
        recording.start,
      ),
    );
    assert.deepEqual(recording.order, ['a1', 'b1', 'a2', 'b2', 'b3']);
    assert.deepEqual(result, reported(a2 as never, a3 as never));
    const skipped = records.find((entry) => String(entry.message).startsWith('Records not started'));
    assert.equal(records.filter((entry) => entry.level === 'ERROR').length, 1, 'the failure alone is logged');
    assert.deepEqual(skipped?.sequenceNumbers, [a3?.kinesis.sequenceNumber]);
  });

  it('reports a record the normalizer refuses (bad JSON) with the rest of its shard', async () => {
    const recording = recordingStart();
    const good = shardRecord('o1', '1');
    const bad = kinesisRecord('not json', { shardId: 'shardId-000000000001' });
    const after = shardRecord('o2', '1');
    const { result, records } = await captureLogs(() =>
      processStreamBatch(routes, kinesisEvent(good, bad, after), lambdaContext(), recording.start),
    );
    assert.deepEqual(recording.order, ['o1']);
    assert.deepEqual(result, reported(bad, after));
    const failure = records.find((entry) => entry.level === 'ERROR');
    assert.equal(failure?.reason, 'MalformedJsonError');
    assert.equal(failure?.eventId, `${bad.eventSourceARN}/${bad.eventID}`);
  });

  it('reports, without starting them, the records whose turn comes too close to the deadline', async () => {
    const recording = recordingStart();
    const event = kinesisEvent(shardRecord('o1', '1'), shardRecord('o2', '1'), shardRecord('o3', '1'));
    const context = {
      ...lambdaContext(),
      getRemainingTimeInMillis: () => (recording.order.length > 0 ? 1_400 : 20_000),
    };
    const { result, records } = await captureLogs(() =>
      processStreamBatch(routes, event, context, recording.start),
    );
    assert.deepEqual(recording.order, ['o1']);
    assert.deepEqual(result, reported(...event.Records.slice(1)));
    const cutOff = records.filter((entry) => entry.reason === 'DeadlineExceededError');
    assert.equal(cutOff.length, 1);
    assert.equal(cutOff[0]?.permanent, false);
  });

  it('reports DynamoDB records by their sequence number, in order per stream', async () => {
    const recording = recordingStart({ fail: (orderId) => orderId === 'd1' });
    const keys = (orderId: string) => ({
      keys: { orderId: { S: orderId } },
      newImage: { orderId: { S: orderId } },
    });
    const records = ['d0', 'd1', 'd2'].map((orderId) => dynamodbRecord('INSERT', keys(orderId)));
    const { result } = await captureLogs(() =>
      processStreamBatch(routes, dynamodbEvent(...records), lambdaContext(), recording.start),
    );
    assert.deepEqual(recording.order, ['d0', 'd1']);
    assert.deepEqual(result, {
      batchItemFailures: records
        .slice(1)
        .map((record) => ({ itemIdentifier: record.dynamodb?.SequenceNumber })),
    });
  });

  it('fails a batch from another source whole', async () => {
    const event = { Records: [{ eventSource: 'aws:sqs' }] };
    await assert.rejects(
      processStreamBatch(routes, event as never, lambdaContext()),
      /Not a Kinesis or DynamoDB/,
    );
  });
});
