import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { type LocalBus, startLocalBus } from '../../scripts/localBus.ts';
import { type LocalDeployment, localDeployment } from '../../scripts/localDeployment.ts';
import { type BatchReport, type LocalSqs, startLocalSqs } from '../../scripts/localSqs.ts';
import { send } from '../../scripts/send.ts';
import { uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const ROUTES = fileURLToPath(new URL('../routes/local-stack.json', import.meta.url));

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * The local stack's SQS and event bus (scripts/localSqs.ts, localBus.ts) on a real SQS API (ElasticMQ)
 * and the dev server: redrive to the dead-letter queue, redelivery after the visibility timeout, FIFO
 * group order, the event bus's rules, retries and on-failure destination, schedules, `npm run send`.
 */
describe('the local stack', () => {
  let stack: Stack;
  let deployment: LocalDeployment;
  let sqs: LocalSqs;
  let bus: LocalBus;
  const reports: BatchReport[] = [];
  /** Replaces the sqs function for one test: it sees each event and may act on it. */
  let around: (event: SQSEvent, real: () => Promise<unknown>) => Promise<unknown> = (_event, real) => real();

  before(async () => {
    stack = await startStack(['orders', 'reports', 'carts']);
    process.env.ROUTES_FILE = ROUTES;
    deployment = localDeployment(ROUTES);
    sqs = await startLocalSqs(deployment, { visibilityTimeoutSeconds: 2 });
    const [sqsModule, eventbridgeModule] = await Promise.all([
      import('../../functions/sqs.ts'),
      import('../../functions/eventbridge.ts'),
    ]);
    const sqsHandler = sqsModule.handler as unknown as Handler;
    sqs.poll(
      (event, context) =>
        around(event, () => captureLogs(() => sqsHandler(event, context)).then(({ result }) => result)),
      (report) => reports.push(report),
    );
    bus = await startLocalBus({
      deployment,
      handler: eventbridgeModule.handler as unknown as Handler,
      deadLetters: { sqs: sqs.client, url: sqs.url(deployment.eventsDeadLetterQueue) },
      retryDelaysMs: [10, 10],
    });
  });
  after(async () => {
    delete process.env.ROUTES_FILE;
    await bus?.stop();
    await sqs?.stop();
    await stack?.stop();
  });

  const sendTo = (queue: string, body: unknown, extra: { group?: string; kind?: string } = {}) =>
    sqs.client.send(
      new SendMessageCommand({
        QueueUrl: sqs.url(queue),
        MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        ...(extra.group !== undefined && { MessageGroupId: extra.group, MessageDeduplicationId: uid() }),
        ...(extra.kind !== undefined && {
          MessageAttributes: { kind: { DataType: 'String', StringValue: extra.kind } },
        }),
      }),
    );

  /** The messages of a queue, waiting up to `seconds` for the first; left visible, for a later look. */
  const receiveAll = async (queue: string, seconds: number) => {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.url(queue),
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: seconds,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    return Messages;
  };

  /** Waits for `condition`, checking every 100 ms for up to `seconds`. */
  const waitFor = async (what: string, condition: () => boolean | Promise<boolean>, seconds = 30) => {
    const until = Date.now() + seconds * 1000;
    while (!(await condition())) {
      assert.ok(Date.now() < until, `timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const deliveriesOf = (messageId: string | undefined) =>
    reports.filter(({ messageIds }) => messageId !== undefined && messageIds.includes(messageId));

  it('moves a poisoned message to the dead-letter queue after maxReceiveCount receives, and nothing else', async () => {
    const orderId = uid();
    const good = await sendTo('orders', { orderId });
    const poisoned = await sendTo('orders', '{not json');

    const [dead] = await (async () => {
      for (let attempt = 0; attempt < 60; attempt += 1) {
        const messages = await receiveAll('orders-dlq', 1);
        if (messages.length > 0) return messages;
      }
      return assert.fail('nothing reached orders-dlq');
    })();
    assert.equal(dead?.MessageId, poisoned.MessageId);
    assert.equal(dead?.Body, '{not json');
    // Delivered maxReceiveCount times, each time reported as failed; the good one once, and deleted.
    const redrive = deployment.queues.find(({ name }) => name === 'orders')?.redrive;
    assert.equal(redrive?.maxReceiveCount, 5);
    await waitFor('the fifth delivery', () => deliveriesOf(poisoned.MessageId).length >= 5);
    // Past another visibility timeout: it never comes back to the function.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(deliveriesOf(poisoned.MessageId).length, 5);
    assert.ok(
      deliveriesOf(poisoned.MessageId).every(({ failed }) => failed.includes(poisoned.MessageId ?? '')),
    );
    assert.equal(deliveriesOf(good.MessageId).length, 1);
    assert.deepEqual(await stack.runs(`order-${orderId}`), [
      (await stack.completed(`order-${orderId}`)).description.runId,
    ]);
    assert.deepEqual(
      (await receiveAll('orders-dlq', 0)).map(({ MessageId }) => MessageId),
      [poisoned.MessageId],
    );
  });

  it('delivers a message again after its visibility timeout when the invocation failed, and starts no second workflow', async () => {
    const orderId = uid();
    const seen: SQSEvent[] = [];
    let crashed = false;
    around = async (event, real) => {
      const result = await real();
      if (!event.Records.some(({ body }) => body.includes(orderId))) return result;
      seen.push(event);
      // The first time, the invocation fails after starting the workflow, as one that times out would.
      if (!crashed) {
        crashed = true;
        throw new Error('the invocation timed out');
      }
      return result;
    };
    try {
      const { MessageId } = await sendTo('orders', { orderId });
      await waitFor('the second delivery', () => seen.length >= 2);
      const counts = seen.map(
        ({ Records }) =>
          Records.find(({ messageId }) => messageId === MessageId)?.attributes.ApproximateReceiveCount,
      );
      assert.deepEqual(counts, ['1', '2']);
      assert.equal((await stack.runs(`order-${orderId}`)).length, 1);
      // Deleted after the second delivery succeeded: it never comes back.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(seen.length, 2);
    } finally {
      around = (_event, real) => real();
    }
  });

  it('holds a FIFO group at its failed message, then goes on in order once it succeeds', async () => {
    const [group, other] = [uid(), uid()];
    const cartId = uid();
    const [first, later, elsewhere] = [uid(), uid(), uid()];
    const m1 = await sendTo('orders.fifo', { orderId: first }, { group });
    // A signal to a cart that does not exist yet: a transient failure, retried.
    const m2 = await sendTo(
      'orders.fifo',
      { cartId, item: { sku: 'pen', quantity: 1 } },
      { group, kind: 'item' },
    );
    const m3 = await sendTo('orders.fifo', { orderId: later }, { group });
    await sendTo('orders.fifo', { orderId: elsewhere }, { group: other });

    await waitFor('two failed deliveries of the signal', () => deliveriesOf(m2.MessageId).length >= 2);
    // The group waits behind its failed message; the other group does not.
    assert.equal(await stack.exists(`order-${later}`), false);
    await waitFor('the other group', () => stack.exists(`order-${elsewhere}`));
    assert.ok(await stack.exists(`order-${first}`));
    assert.ok(deliveriesOf(m3.MessageId).every(({ failed }) => failed.includes(m3.MessageId ?? '')));

    await stack.client.workflow.start('cart', { taskQueue: 'carts', workflowId: `cart-${cartId}` });
    const succeeded = (id: string | undefined) =>
      reports.findIndex(
        ({ messageIds, failed }) => id !== undefined && messageIds.includes(id) && !failed.includes(id),
      );
    await waitFor('the rest of the group', () => succeeded(m3.MessageId) >= 0);
    assert.ok(await stack.exists(`order-${later}`));
    assert.ok(succeeded(m2.MessageId) >= 0 && succeeded(m2.MessageId) <= succeeded(m3.MessageId));
    const items = await stack.client.workflow.getHandle(`cart-${cartId}`).query<unknown[]>('items');
    assert.deepEqual(items, [{ sku: 'pen', quantity: 1 }]);
    assert.equal(deliveriesOf(m1.MessageId).length, 1);
    await stack.client.workflow.getHandle(`cart-${cartId}`).terminate('test done');
  });

  it('delivers an event through the rule it matches, and drops one no rule matches', async () => {
    const orderId = uid();
    const [delivery] = await captureLogs(() => bus.put('com.example.shop', 'OrderPlaced', { orderId })).then(
      ({ result }) => result,
    );
    assert.equal(delivery?.rule, 'order-events');
    assert.equal(delivery?.attempts, 1);
    assert.equal((delivery?.result as { workflowId?: string } | undefined)?.workflowId, `order-${orderId}`);
    assert.deepEqual(await bus.put('com.example.other', 'OrderPlaced', { orderId }), []);
  });

  it('retries a failed event as asynchronous invocations are retried, then sends its record to the dead-letter queue', async () => {
    const { result } = await captureLogs(() =>
      bus.put('com.example.shop', 'OrderPlaced', { noOrderId: true }),
    );
    const [delivery] = result;
    assert.equal(delivery?.attempts, deployment.eventbridgeRetries + 1);
    const [dead] = await receiveAll(deployment.eventsDeadLetterQueue, 5);
    assert.equal(dead?.MessageId, delivery?.deadLetterMessageId);
    const record = JSON.parse(dead?.Body ?? '{}');
    assert.equal(record.requestContext.condition, 'RetriesExhausted');
    assert.equal(record.requestContext.approximateInvokeCount, 3);
    assert.deepEqual(record.requestPayload.detail, { noOrderId: true });
    assert.equal(record.responsePayload.errorType, delivery?.error?.type);
  });

  it('fires a schedule on demand, and sends through npm run send', async () => {
    const { result: tick } = await captureLogs(() => bus.fire('nightly-report'));
    assert.match(String((tick.result as { workflowId?: string }).workflowId), /^nightly-\d{4}-/);
    await assert.rejects(
      bus.fire('no-such-schedule'),
      /no schedule "no-such-schedule"; the schedules are: nightly-report/,
    );

    const running = {
      address: stack.address,
      namespace: 'default',
      gatewayUrl: '',
      pid: process.pid,
      sqsEndpoint: sqs.endpoint,
      busUrl: bus.url,
    };
    const orderId = uid();
    const sent = await send(['sqs', 'orders', JSON.stringify({ orderId })], running);
    assert.ok(sent.ok);
    await waitFor('the sent message to start its workflow', () => stack.exists(`order-${orderId}`));
    const event = await captureLogs(() =>
      send(['event', 'com.example.shop', 'OrderPlaced', JSON.stringify({ orderId: uid() })], running),
    );
    assert.ok(event.result.ok);
    assert.match(
      event.result.lines.join('\n'),
      /rule order-events: delivered \(workflow order-.+, started\)/,
    );
    const dropped = await send(['event', 'com.example.other', 'Nothing', '{}'], running);
    assert.equal(dropped.ok, false);
    await assert.rejects(
      send(['sqs', 'orders.fifo', '{}'], running),
      /FIFO queue: give the message group with --group/,
    );
    // A body that is not JSON is sent all the same, with a word on where it will end up.
    const poisoned = await send(['sqs', 'orders', '{oops'], running);
    assert.match(poisoned.lines.join('\n'), /not JSON: .* dead-letter queue after maxReceiveCount receives/);
    // peek leaves what it shows in place: the first test's poisoned message, in orders-dlq.
    for (let look = 0; look < 2; look += 1) {
      const peeked = await send(['peek', 'orders-dlq'], running);
      assert.match(peeked.lines.join('\n'), /received \d+ times {2}\{not json/);
    }
  });
});
