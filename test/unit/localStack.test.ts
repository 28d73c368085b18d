import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { matches } from '../../scripts/localBus.ts';
import { localDeployment } from '../../scripts/localDeployment.ts';
import { recordOf } from '../../scripts/localSqs.ts';

describe('localDeployment', () => {
  it('leaves out the Kinesis and DynamoDB routes, which have no local stand-in', () => {
    const deployment = localDeployment(
      fileURLToPath(new URL('../routes/deploy-streams.json', import.meta.url)),
    );
    assert.deepEqual(deployment.queues, []);
  });

  it("takes the queues, mappings, rules and retries from derive and serverless.yml, a FIFO queue's too, and the attributes its route asks for", () => {
    const deployment = localDeployment(fileURLToPath(new URL('../routes/deploy-fifo.json', import.meta.url)));
    const fifo = deployment.queues.find(({ name }) => name === 'orders.fifo');
    assert.deepEqual(fifo, {
      name: 'orders.fifo',
      fifo: true,
      visibilityTimeoutSeconds: 180,
      redrive: { deadLetterQueue: 'orders-dlq.fifo', maxReceiveCount: 5 },
      mapping: { batchSize: 10, batchingWindowSeconds: 0 },
      routeAttributes: { kind: 'order' },
    });
    assert.equal(deployment.queues.find(({ name }) => name === 'orders-dlq.fifo')?.mapping, undefined);
    assert.deepEqual(
      [deployment.sqsTimeoutSeconds, deployment.eventbridgeRetries, deployment.eventsDeadLetterQueue],
      [30, 2, 'events-dlq'],
    );
    assert.ok(deployment.rules.some(({ name, pattern }) => name === 'order-events' && pattern !== undefined));
  });
});

describe('matches (the local bus)', () => {
  const event = {
    source: 'shop',
    'detail-type': 'Placed',
    detail: { kind: 'order', tags: ['a', 'b'], n: 1 },
  };

  it('matches listed values, nested detail fields, and any element of a list in the event', () => {
    assert.ok(matches({ source: ['shop'], 'detail-type': ['Placed'] }, event));
    assert.ok(matches({ detail: { kind: ['order', 'refund'], n: [1] } }, event));
    assert.ok(matches({ detail: { tags: ['b'] } }, event));
  });

  it('refuses another value, a missing field, and a value where an object is expected', () => {
    assert.equal(matches({ source: ['other'] }, event), false);
    assert.equal(matches({ detail: { missing: ['x'] } }, event), false);
    assert.equal(matches({ source: { nested: ['x'] } }, event), false);
    assert.equal(matches({ detail: { n: ['1'] } }, event), false);
  });
});

describe('recordOf (the local SQS poller)', () => {
  it("turns a received message into a record of Lambda's SQS event", () => {
    const record = recordOf(
      {
        MessageId: 'm-1',
        ReceiptHandle: 'r-1',
        Body: '{"orderId":"1"}',
        MD5OfBody: 'md5',
        Attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1700000000000', MessageGroupId: 'g' },
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'order' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
        },
      },
      'orders.fifo',
    );
    assert.deepEqual(record, {
      messageId: 'm-1',
      receiptHandle: 'r-1',
      body: '{"orderId":"1"}',
      attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1700000000000', MessageGroupId: 'g' },
      messageAttributes: {
        kind: { stringValue: 'order', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: 'aGk=', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: 'md5',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders.fifo',
      awsRegion: 'us-east-1',
    });
  });
});
