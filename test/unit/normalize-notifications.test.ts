import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { S3Event, SNSEvent } from 'aws-lambda';
import { compileRoutes } from '#lib/routes/validate.ts';
import { decodeKey, isS3Event, isS3TestEvent, normalizeS3Record } from '#lib/sources/s3.ts';
import { isSnsEvent, normalizeSnsRecord } from '#lib/sources/sns.ts';
import { fixture } from '../helpers/events.ts';

const contract = compileRoutes(fixture('../routes/contract.json'), 'contract.json', undefined);

const snsRecord = (change: (sns: SNSEvent['Records'][number]['Sns']) => void = () => {}) => {
  const [record] = fixture<SNSEvent>('sns/order-message.json').Records;
  if (record === undefined) throw new Error('no record');
  change(record.Sns);
  return record;
};

const s3Record = (change: (record: S3Event['Records'][number]) => void = () => {}) => {
  const [record] = fixture<S3Event>('s3/object-created.json').Records;
  if (record === undefined) throw new Error('no record');
  change(record);
  return record;
};

describe('SNS messages', () => {
  it('are told from other events by their records', () => {
    assert.equal(isSnsEvent(fixture('sns/order-message.json')), true);
    assert.equal(isSnsEvent(fixture('s3/object-created.json')), false);
    assert.equal(isSnsEvent(fixture('sqs/orders-batch.json')), false);
  });

  it('match their topic and String or Number attributes; the message ID is the identity', () => {
    const request = normalizeSnsRecord(contract, snsRecord());
    assert.equal(request.route, 'order-notifications');
    assert.equal(request.workflowId, 'order-3001');
    assert.equal(request.eventId, '95df01b4-ee98-5cb9-9903-4c221d41eb5e');
    assert.deepEqual(request.input, {
      order: { orderId: '3001', items: ['lamp'] },
      subject: 'Order placed',
      priority: '2',
    });
  });

  it('fail permanently when the message is not JSON, and when neither a route nor an envelope applies', () => {
    assert.throws(
      () =>
        normalizeSnsRecord(
          contract,
          snsRecord((sns) => (sns.Message = 'hello')),
        ),
      {
        name: 'MalformedJsonError',
      },
    );
    const otherTopic = snsRecord((sns) => (sns.TopicArn = 'arn:aws:sns:us-east-1:123456789012:refunds'));
    assert.throws(() => normalizeSnsRecord(contract, otherTopic), {
      name: 'NoRouteError',
      message: 'No route for topic "refunds" and no workflowType message attribute',
    });
  });
});

describe('S3 notifications', () => {
  it('are told from other events, and the test event from both', () => {
    assert.equal(isS3Event(fixture('s3/object-created.json')), true);
    assert.equal(isS3Event(fixture('s3/test-event.json')), false);
    assert.equal(isS3TestEvent(fixture('s3/test-event.json')), true);
    assert.equal(isS3TestEvent(fixture('s3/object-created.json')), false);
  });

  it('have their key decoded as S3 encodes it: + for a space, percent escapes', () => {
    assert.equal(decodeKey('incoming/March+2026%2Finvoice+%231.pdf'), 'incoming/March 2026/invoice #1.pdf');
    assert.equal(decodeKey('a%2Bb'), 'a+b');
    assert.equal(decodeKey('100%'), '100%', 'a key that does not decode is kept as it came');
  });

  it('match bucket, decoded prefix and suffix, and event names with a wildcard; bucket, key and sequencer identify them', () => {
    const request = normalizeS3Record(contract, s3Record());
    assert.equal(request.route, 'invoice-uploads');
    assert.equal(
      request.workflowId,
      'processOrder-invoices-incoming/March 2026/invoice #1.pdf-0055AED6DCD90281E5',
    );
    assert.equal(request.eventId, 'invoices/incoming/March 2026/invoice #1.pdf@0055AED6DCD90281E5');
    assert.deepEqual(request.input, {
      bucket: 'invoices',
      key: 'incoming/March 2026/invoice #1.pdf',
      size: 1024,
      event: 'ObjectCreated:Put',
    });
    for (const change of [
      (record: S3Event['Records'][number]) => (record.eventName = 'ObjectRemoved:Delete'),
      (record: S3Event['Records'][number]) => (record.s3.bucket.name = 'receipts'),
      (record: S3Event['Records'][number]) => (record.s3.object.key = 'incoming/x.txt'),
      (record: S3Event['Records'][number]) => (record.s3.object.key = 'outgoing/x.pdf'),
    ]) {
      assert.throws(() => normalizeS3Record(contract, s3Record(change)), { name: 'NoRouteError' });
    }
  });
});
