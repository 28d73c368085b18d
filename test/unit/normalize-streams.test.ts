import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DynamoDBStreamEvent, KinesisStreamEvent } from 'aws-lambda';
import {
  InputSchemaError,
  MalformedJsonError,
  NoRouteError,
  TemplateError,
  ValidationError,
} from '#lib/errors.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { normalizeDynamoDbRecord } from '#lib/sources/dynamodb.ts';
import { unmarshall } from '#lib/sources/dynamodbJson.ts';
import { normalizeKinesisRecord } from '#lib/sources/kinesis.ts';
import { dynamodbRecord, fixture, kinesisRecord } from '../helpers/events.ts';

const routes = compileRoutes(fixture('../routes/contract.json'), 'contract.json', undefined);

describe('normalizeKinesisRecord', () => {
  const [first] = fixture<KinesisStreamEvent>('kinesis/orders-batch.json').Records;

  it('routes by stream name and starts with the decoded data', () => {
    const request = normalizeKinesisRecord(routes, first as never);
    assert.equal(request.route, 'orders-stream');
    assert.equal(request.workflowId, 'order-2001');
    assert.deepEqual(request.input, { orderId: '2001', amount: 42 });
    assert.equal(
      request.eventId,
      'arn:aws:kinesis:us-east-2:123456789012:stream/orders-stream/shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
    );
  });

  it('names the workflow by stream, shard and sequence number without a workflow ID template, and offers the record to templates', () => {
    const record = kinesisRecord(
      { x: 1 },
      { stream: 'clicks', partitionKey: 'user-1', sequenceNumber: '42' },
    );
    const request = normalizeKinesisRecord(routes, record);
    assert.equal(request.workflowId, 'processOrder-clicks-shardId-000000000006-42');
    assert.deepEqual(request.input, {
      click: { x: 1 },
      partitionKey: 'user-1',
      shardId: 'shardId-000000000006',
    });
  });

  it('fails data that is not JSON permanently, naming the sequence number and not quoting the data', () => {
    const record = kinesisRecord('{"orderId": secret', { sequenceNumber: '77' });
    assert.throws(
      () => normalizeKinesisRecord(routes, record),
      (error: unknown) =>
        error instanceof MalformedJsonError &&
        error.permanent &&
        error.message.includes('77') &&
        !error.message.includes('secret'),
    );
  });

  it("fails data its route's input schema refuses permanently, naming where and never the value", () => {
    const checked = compileRoutes(
      {
        workflows: { processOrder: { taskQueue: 'orders' } },
        routes: [
          {
            name: 'k',
            kinesis: { stream: 'orders-stream' },
            workflowType: 'processOrder',
            input: '{data}',
            inputSchema: {
              type: 'object',
              properties: { orderId: { type: 'string' } },
              required: ['orderId'],
            },
          },
        ],
      },
      'inline',
      undefined,
    );
    assert.throws(
      () => normalizeKinesisRecord(checked, kinesisRecord({ sku: 'secret-sku' })),
      (error: unknown) =>
        error instanceof InputSchemaError && error.permanent && !error.message.includes('secret-sku'),
    );
  });

  it('needs a route for the stream', () => {
    assert.throws(() => normalizeKinesisRecord(routes, kinesisRecord({}, { stream: 'other' })), NoRouteError);
  });
});

describe('normalizeDynamoDbRecord', () => {
  const [insert, modify, remove] = fixture<DynamoDBStreamEvent>('dynamodb/orders-changes.json').Records;

  it('routes an INSERT by table and event name, with its new image as plain JSON', () => {
    const request = normalizeDynamoDbRecord(routes, insert as never);
    assert.equal(request.route, 'orders-created');
    assert.equal(request.workflowId, 'order-created-2001');
    assert.deepEqual(request.input, {
      orderId: '2001',
      amount: 42.5,
      paid: false,
      items: [{ sku: 'lamp', qty: 2 }],
      tags: ['new', 'gift'],
      note: null,
    });
    assert.equal(
      request.eventId,
      'arn:aws:dynamodb:us-west-2:123456789012:table/orders/stream/2015-06-27T00:48:05.899/c4ca4238a0b923820dcc509a6f75849b',
    );
  });

  it('routes MODIFY and REMOVE to the route that lists them, named by the event ID by default', () => {
    for (const record of [modify, remove]) {
      const request = normalizeDynamoDbRecord(routes, record as never);
      assert.equal(request.route, 'orders-changed');
      assert.equal(request.workflowId, `processOrder-${record?.eventID}`);
      assert.deepEqual(request.input, {
        change: record?.eventName,
        before: { orderId: '2001', amount: 42.5, paid: record === remove },
        orderId: '2001',
      });
    }
  });

  it('fails a template path the record lacks (an INSERT has no old image) permanently', () => {
    const single = compileRoutes(
      {
        workflows: { processOrder: { taskQueue: 'orders' } },
        routes: [
          { name: 't', dynamodb: { table: 'orders' }, workflowType: 'processOrder', input: '{oldImage}' },
        ],
      },
      'inline',
      undefined,
    );
    assert.throws(() => normalizeDynamoDbRecord(single, insert as never), TemplateError);
  });

  it('needs a route for the table and the event name', () => {
    const record = dynamodbRecord('INSERT', { keys: { id: { S: '1' } } }, { table: 'other' });
    assert.throws(() => normalizeDynamoDbRecord(routes, record), NoRouteError);
  });
});

describe('stream routes in the routes file', () => {
  const file = (route: object) => ({
    workflows: { processOrder: { taskQueue: 'orders' } },
    routes: [{ name: 's', workflowType: 'processOrder', ...route }],
  });

  it('refuse a template root their trigger does not have, naming the roots it has', () => {
    assert.throws(
      () => compileRoutes(file({ kinesis: { stream: 'orders' }, input: '{body}' }), 'inline', undefined),
      /"\{body\}" does not start with a kinesis root \(data, partitionKey, sequenceNumber, stream, shardId, arrivalTime\)/,
    );
    assert.throws(
      () => compileRoutes(file({ dynamodb: { table: 'orders' }, input: '{data}' }), 'inline', undefined),
      /does not start with a dynamodb root \(newImage, oldImage, keys, eventName, eventId, table, sequenceNumber\)/,
    );
  });

  it('take one event name or a list of them, and no other', () => {
    for (const eventName of ['INSERT', ['MODIFY', 'REMOVE']]) {
      assert.doesNotThrow(() =>
        compileRoutes(file({ dynamodb: { table: 't', eventName } }), 'inline', undefined),
      );
    }
    for (const eventName of ['UPDATE', [], ['INSERT', 'DELETE']]) {
      assert.throws(() => compileRoutes(file({ dynamodb: { table: 't', eventName } }), 'inline', undefined));
    }
  });
});

describe('unmarshall', () => {
  it('reads every DynamoDB type as plain JSON', () => {
    assert.deepEqual(
      unmarshall({
        s: { S: 'text' },
        n: { N: '-1.5e3' },
        b: { B: 'AQID' },
        bool: { BOOL: true },
        nul: { NULL: true },
        m: { M: { inner: { L: [{ N: '1' }, { S: 'two' }] } } },
        ss: { SS: ['a', 'b'] },
        ns: { NS: ['1', '2.5'] },
        bs: { BS: ['AQ==', 'Ag=='] },
      }),
      {
        s: 'text',
        n: -1500,
        b: 'AQID',
        bool: true,
        nul: null,
        m: { inner: [1, 'two'] },
        ss: ['a', 'b'],
        ns: [1, 2.5],
        bs: ['AQ==', 'Ag=='],
      },
    );
  });

  it('refuses what is not an attribute value, naming the attribute and not its value', () => {
    assert.throws(
      () => unmarshall({ m: { M: { deep: { X: 'secret' } } } }),
      (error: unknown) =>
        error instanceof ValidationError &&
        error.message.includes('m.deep') &&
        !error.message.includes('secret'),
    );
    assert.throws(() => unmarshall({ two: { S: 'a', N: '1' } }), ValidationError);
  });
});
