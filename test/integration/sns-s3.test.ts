import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { S3Event, SNSEvent } from 'aws-lambda';
import type { WorkflowResult } from '../../lib/actions.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { fixture, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/**
 * SNS messages and S3 event notifications, delivered to the asynchronous function directly, against a
 * real Temporal server and worker: a first delivery, a redelivery that starts nothing new, and the
 * failures Lambda's asynchronous retries and on-failure destination then handle.
 */

const snsEvent = (message: string, attributes: Record<string, string> = { kind: 'order' }): SNSEvent => {
  const event = fixture<SNSEvent>('sns/order-message.json');
  const [record] = event.Records;
  if (record === undefined) throw new Error('the fixture has no record');
  record.Sns.MessageId = crypto.randomUUID();
  record.Sns.Message = message;
  record.Sns.MessageAttributes = Object.fromEntries(
    Object.entries(attributes).map(([name, Value]) => [name, { Type: 'String', Value }]),
  );
  return event;
};

const s3Event = (key: string, eventName = 'ObjectCreated:Put'): S3Event => {
  const event = fixture<S3Event>('s3/object-created.json');
  const [record] = event.Records;
  if (record === undefined) throw new Error('the fixture has no record');
  record.eventName = eventName;
  record.s3.object.key = key;
  record.s3.object.sequencer = `00${Date.now().toString(16).toUpperCase()}`;
  return event;
};

describe('SNS and S3 notifications', () => {
  let stack: Stack;
  let invoke: (event: unknown) => Promise<WorkflowResult[]>;

  before(async () => {
    stack = await startStack(['orders']);
    process.env.ROUTES_FILE = new URL('../routes/contract.json', import.meta.url).pathname;
    const { handler } = await import('../../functions/eventbridge.ts');
    invoke = (event) => handler(event, lambdaContext()) as Promise<WorkflowResult[]>;
  });
  after(() => stack?.stop());

  /** Invokes, expecting a throw: the error's name and whether its log line says permanent. */
  const failure = async (event: unknown) => {
    const { result, records } = await captureLogs(() =>
      invoke(event).then(
        () => assert.fail('the invocation succeeded'),
        (error: unknown) => error as Error,
      ),
    );
    const logged = records.find((record) => record.level === 'ERROR');
    return { name: result.name, message: result.message, permanent: logged?.permanent };
  };

  describe('SNS', () => {
    it('starts the routed workflow, with the message, its subject and attributes', async () => {
      const orderId = uid();
      const event = snsEvent(JSON.stringify({ orderId }), { kind: 'order', priority: '2' });
      const [result] = await invoke(event);
      assert.equal(result?.started, true);
      assert.deepEqual((await stack.completed(`order-${orderId}`)).result, {
        processed: true,
        input: { order: { orderId }, subject: 'Order placed', priority: '2' },
      });
    });

    it('starts nothing new for a redelivered message: the same run', async () => {
      const orderId = uid();
      const event = snsEvent(JSON.stringify({ orderId }), { kind: 'order', priority: '1' });
      const [first] = await invoke(event);
      const [again] = await invoke(structuredClone(event));
      assert.equal(first?.started, true);
      // The same start request to Temporal (its ID is derived from the message ID): the same run.
      assert.equal(again?.runId, first?.runId);
      assert.deepEqual(await stack.runs(`order-${orderId}`), [first?.runId]);
    });

    it('throws a message that is not JSON as a permanent failure, and one no route takes', async () => {
      const poisoned = snsEvent('not json');
      assert.deepEqual(await failure(poisoned), {
        name: 'MalformedJsonError',
        message: `The message ${poisoned.Records[0]?.Sns.MessageId} is not valid JSON`,
        permanent: true,
      });
      const unrouted = await failure(snsEvent(JSON.stringify({ orderId: uid() }), { kind: 'refund' }));
      assert.deepEqual(unrouted, {
        name: 'NoRouteError',
        message: 'No route for topic "orders" and no workflowType message attribute',
        permanent: true,
      });
    });

    it('starts an allow-listed type named by the message attributes (the canonical envelope)', async () => {
      const workflowId = `sns-envelope-${uid()}`;
      const [result] = await invoke(
        snsEvent(JSON.stringify({ n: 1 }), { workflowType: 'processOrder', workflowId }),
      );
      assert.equal(result?.workflowId, workflowId);
      assert.deepEqual((await stack.completed(workflowId)).result, { processed: true, input: { n: 1 } });
    });
  });

  describe('S3', () => {
    it('starts the routed workflow with the object key decoded, named by bucket, key and sequencer', async () => {
      const name = uid();
      const event = s3Event(`incoming/March+2026%2F${name}+%231.pdf`);
      const sequencer = event.Records[0]?.s3.object.sequencer;
      const [result] = await invoke(event);
      const key = `incoming/March 2026/${name} #1.pdf`;
      assert.equal(result?.workflowId, `processOrder-invoices-${key}-${sequencer}`);
      assert.deepEqual((await stack.completed(String(result?.workflowId))).result, {
        processed: true,
        input: { bucket: 'invoices', key, size: 1024, event: 'ObjectCreated:Put' },
      });
    });

    it('starts nothing new for a redelivered event, and a new run for the next event of the key', async () => {
      const event = s3Event(`incoming/${uid()}.pdf`);
      const [first] = await invoke(event);
      const [again] = await invoke(structuredClone(event));
      assert.equal(first?.started, true);
      assert.equal(again?.runId, first?.runId);
      assert.deepEqual(await stack.runs(String(first?.workflowId)), [first?.runId]);
      // The object written again: a later sequencer, another event.
      const next = structuredClone(event);
      const record = next.Records[0];
      if (record) record.s3.object.sequencer = `${record.s3.object.sequencer}1`;
      const [later] = await invoke(next);
      assert.equal(later?.started, true);
      assert.notEqual(later?.workflowId, first?.workflowId);
    });

    it('throws an event no route takes: another event name, prefix or suffix', async () => {
      for (const event of [
        s3Event(`incoming/${uid()}.pdf`, 'ObjectRemoved:Delete'),
        s3Event(`archive/${uid()}.pdf`),
        s3Event(`incoming/${uid()}.txt`),
      ]) {
        const result = await failure(event);
        assert.equal(result.name, 'NoRouteError');
        assert.equal(result.permanent, true);
      }
    });

    it('acknowledges the test event a new notification configuration sends, starting nothing', async () => {
      assert.deepEqual(await invoke(fixture('s3/test-event.json')), []);
    });
  });
});
