import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Client, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import type {
  APIGatewayProxyStructuredResultV2,
  EventBridgeEvent,
  SQSBatchResponse,
  SQSRecord,
} from 'aws-lambda';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { SECOND_NAMESPACE } from '../../scripts/temporalServer.ts';
import { eventBridgeEvent, httpEvent, sqsEvent, sqsRecord, uid } from '../helpers/events.ts';
import { type GrpcProxy, startGrpcProxy } from '../helpers/grpcProxy.ts';
import { acceptedUpdates, type History, signals } from '../helpers/history.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

type Handler = (event: never, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
const { IndexedValueType } = proto.temporal.api.enums.v1;

const SEARCH_ATTRIBUTES = {
  TriggersCustomer: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TriggersTotal: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  TriggersVip: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

const ACTIONS = {
  items: (item: string) => ({ action: 'signalWithStart', signal: { name: 'addItem', args: [item] } }),
  count: (item: string) => ({ action: 'updateWithStart', update: { name: 'addItemAndCount', args: [item] } }),
  checkout: (options: string) => ({ action: 'update', update: { name: 'checkout', args: [options] } }),
  add: (item: string) => ({ action: 'signal', signal: { name: 'addItem', args: [item] } }),
};

/** The routes under test: every action from every trigger, start options, and a second namespace. */
const routesFile = (secondAddress: string) => ({
  searchAttributes: { TriggersCustomer: 'KEYWORD', TriggersTotal: 'DOUBLE', TriggersVip: 'BOOL' },
  workflows: {
    cart: { taskQueue: 'carts' },
    processOrder: {
      taskQueue: 'orders',
      memo: { team: 'shop' },
      executionTimeout: '1h',
      taskTimeout: '20s',
      retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: ['CardDeclined'] },
      staticSummary: 'An order',
      staticDetails: 'Started by **temporal-triggers**',
    },
    ledgerEntry: { taskQueue: 'ledger', namespace: SECOND_NAMESPACE, address: secondAddress },
  },
  routes: [
    ...(['items', 'count', 'checkout', 'add'] as const).map((step) => ({
      name: `cart-${step}`,
      http: { method: 'POST', path: `/carts/{cartId}/${step}` },
      workflowType: 'cart',
      workflowId: 'cart-{path.cartId}',
      ...ACTIONS[step]('{body}'),
    })),
    ...(['items', 'count', 'add'] as const).map((step) => ({
      name: `cart-queue-${step}`,
      sqs: { queue: 'carts', attributes: { step } },
      workflowType: 'cart',
      workflowId: 'cart-{body.cartId}',
      ...ACTIONS[step]('{body.item}'),
      ...(step === 'count' && {
        update: { name: 'addItemAndCount', args: ['{body.item}'], waitFor: 'completed' },
      }),
    })),
    ...(['items', 'count', 'checkout'] as const).map((step) => ({
      name: `cart-events-${step}`,
      eventbridge: { source: 'com.example.cart', detailType: step },
      workflowType: 'cart',
      workflowId: 'cart-{detail.cartId}',
      ...ACTIONS[step](step === 'checkout' ? '{detail}' : '{detail.item}'),
    })),
    {
      name: 'orders-with-options',
      http: { method: 'POST', path: '/customers/{customer}/orders' },
      workflowType: 'processOrder',
      workflowId: 'order-{body.orderId}',
      input: '{body}',
      memo: { channel: 'api', customer: '{path.customer}' },
      searchAttributes: {
        TriggersCustomer: '{path.customer}',
        TriggersTotal: '{body.total}',
        TriggersVip: '{body.vip}',
      },
      startDelay: '1s',
      runTimeout: '30m',
      priority: { priorityKey: 2, fairnessKey: '{path.customer}', fairnessWeight: 1.5 },
    },
    {
      name: 'orders-queue-with-options',
      sqs: { queue: 'orders-with-options' },
      workflowType: 'processOrder',
      workflowId: 'order-{body.orderId}',
      input: '{body}',
      searchAttributes: { TriggersTotal: '{body.total}' },
    },
    {
      name: 'ledger',
      http: { method: 'POST', path: '/ledger' },
      workflowType: 'ledgerEntry',
      workflowId: 'ledger-{body.entryId}',
      input: '{body}',
    },
  ],
});

describe('route actions and start options against a real Temporal server and worker', () => {
  let stack: Stack;
  let proxy: GrpcProxy;
  let dir: string;
  let http: Handler;
  let sqs: Handler;
  let eventbridge: Handler;

  before(async () => {
    stack = await startStack(['orders', 'carts']);
    const { operatorService } = stack.client.connection;
    await operatorService
      .addSearchAttributes({ namespace: 'default', searchAttributes: SEARCH_ATTRIBUTES })
      .catch((error: { code?: number }) => {
        if (error.code !== status.ALREADY_EXISTS) throw error;
      });
    proxy = await startGrpcProxy({ target: stack.address });
    dir = await mkdtemp(join(tmpdir(), 'actions-routes-'));
    const file = join(dir, 'routes.json');
    await writeFile(file, JSON.stringify(routesFile(proxy.address)));
    process.env.ROUTES_FILE = file;
    http = (await import('../../functions/http.ts')).handler as Handler;
    sqs = (await import('../../functions/sqs.ts')).handler as Handler;
    eventbridge = (await import('../../functions/eventbridge.ts')).handler as Handler;
  });
  after(async () => {
    const { closeTemporal } = await import('#lib/temporal/client.ts');
    await closeTemporal();
    await proxy?.close();
    await stack?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = (await http(
      httpEvent({ path, body, headers }) as never,
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    return { statusCode: response.statusCode, body: JSON.parse(String(response.body)) };
  };
  const get = async (path: string) => {
    const response = (await http(
      httpEvent({ method: 'GET', path }) as never,
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    return { statusCode: response.statusCode, body: JSON.parse(String(response.body)) };
  };
  const deliver = async (...records: SQSRecord[]) =>
    (await sqs(sqsEvent(...records) as never, lambdaContext())) as SQSBatchResponse;
  const cartRecord = (step: string, body: unknown, messageId?: string, sentAt?: number): SQSRecord => {
    const record = sqsRecord(body, { queue: 'carts', attributes: { step }, messageId });
    return sentAt === undefined
      ? record
      : { ...record, attributes: { ...record.attributes, SentTimestamp: String(sentAt) } };
  };
  const emit = async (event: EventBridgeEvent<string, unknown>) => {
    try {
      return { result: await eventbridge(event as never, lambdaContext()) };
    } catch (error) {
      return { error: error as Error };
    }
  };
  const cartEvent = (step: string, detail: unknown, time = new Date().toISOString()) =>
    eventBridgeEvent(detail, { source: 'com.example.cart', 'detail-type': step, time });
  const cart = (cartId: string): WorkflowHandle => stack.client.workflow.getHandle(`cart-${cartId}`);
  const history = async (cartId: string): Promise<History> =>
    (await cart(cartId).fetchHistory()).events ?? [];
  /**
   * The signals in a cart's history once at least `expected` are there: a signal that arrives while a
   * workflow task runs is written when the task completes. Buffered signals keep their order, so when
   * the last one sent is there, a duplicate sent before it would be there too.
   */
  const signalsOnceIn = async (cartId: string, expected: number): Promise<number> => {
    for (let attempt = 0; ; attempt += 1) {
      const count = signals(await history(cartId));
      if (count >= expected || attempt >= 50) return count;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const items = (cartId: string) => cart(cartId).query<{ sku: string }[]>('items');

  describe('HTTP', () => {
    it('signalWithStart starts the cart, then signals the running one; the same Idempotency-Key delivers no second signal', async () => {
      const cartId = uid();
      const first = await post(
        `/carts/${cartId}/items`,
        { sku: 'book', quantity: 1 },
        { 'idempotency-key': `a-${cartId}` },
      );
      const again = await post(
        `/carts/${cartId}/items`,
        { sku: 'book', quantity: 1 },
        { 'idempotency-key': `a-${cartId}` },
      );
      const second = await post(
        `/carts/${cartId}/items`,
        { sku: 'pen', quantity: 2 },
        { 'idempotency-key': `b-${cartId}` },
      );

      assert.equal(first.statusCode, 202);
      assert.deepEqual(
        { ...first.body, runId: typeof first.body.runId },
        {
          action: 'signalWithStart',
          workflowId: `cart-${cartId}`,
          workflowType: 'cart',
          taskQueue: 'carts',
          namespace: 'default',
          runId: 'string',
          started: true,
          signal: 'addItem',
        },
      );
      assert.equal(again.body.started, false);
      assert.equal(second.body.started, false);
      assert.equal(second.body.runId, first.body.runId, 'the running cart was signalled');
      assert.equal(await signalsOnceIn(cartId, 2), 2, 'two signals for three requests, two of them the same');
      assert.deepEqual(
        (await items(cartId)).map(({ sku }) => sku),
        ['book', 'pen'],
      );
      const shown = await get(`/workflows/cart-${cartId}`);
      assert.deepEqual(shown.body.startedBy, { route: 'cart-items', action: 'signalWithStart' });
    });

    it('updateWithStart answers 200 with the update result; the same Idempotency-Key reattaches to the same update', async () => {
      const cartId = uid();
      const first = await post(
        `/carts/${cartId}/count`,
        { sku: 'pen', quantity: 2 },
        { 'idempotency-key': `u-${cartId}` },
      );
      const again = await post(
        `/carts/${cartId}/count`,
        { sku: 'pen', quantity: 2 },
        { 'idempotency-key': `u-${cartId}` },
      );
      const second = await post(`/carts/${cartId}/count`, { sku: 'ink', quantity: 1 });

      assert.equal(first.statusCode, 200);
      assert.equal(first.body.action, 'updateWithStart');
      assert.equal(first.body.started, true);
      assert.deepEqual(
        { ...first.body.update, id: typeof first.body.update.id },
        { id: 'string', name: 'addItemAndCount', status: 'COMPLETED', result: 1 },
      );
      assert.equal(again.statusCode, 200);
      assert.equal(again.body.started, false);
      assert.equal(again.body.update.id, first.body.update.id);
      assert.equal(again.body.update.result, 1, 'the first run of the update answers again');
      assert.equal(second.body.update.result, 2);
      assert.equal(acceptedUpdates(await history(cartId)), 2);
    });

    it('answers 422 for an update the validator rejects, and the cart is unchanged', async () => {
      const cartId = uid();
      await post(`/carts/${cartId}/count`, { sku: 'pen', quantity: 1 });

      const rejected = await post(`/carts/${cartId}/count`, { sku: 'pen', quantity: 0 });

      assert.equal(rejected.statusCode, 422);
      assert.match(rejected.body.detail, /rejected the update addItemAndCount: An item needs a sku/);
      assert.equal((await items(cartId)).length, 1);
    });

    it('signal and update address a running workflow, and answer 404 when there is none', async () => {
      const cartId = uid();
      const missingSignal = await post(`/carts/${cartId}/add`, { sku: 'pen', quantity: 1 });
      const missingUpdate = await post(`/carts/${cartId}/checkout`, {});
      assert.equal(missingSignal.statusCode, 404);
      assert.equal(missingUpdate.statusCode, 404);
      assert.equal(await stack.exists(`cart-${cartId}`), false, 'neither started a workflow');

      await post(`/carts/${cartId}/items`, { sku: 'book', quantity: 1 });
      const signalled = await post(`/carts/${cartId}/add`, { sku: 'pen', quantity: 1 });
      const key = { 'idempotency-key': `checkout-${cartId}` };
      const checkedOut = await post(`/carts/${cartId}/checkout`, {}, key);
      await cart(cartId).result();
      const again = await post(`/carts/${cartId}/checkout`, {}, key);

      assert.equal(again.statusCode, 200, JSON.stringify(again.body));
      assert.deepEqual(
        again.body.update,
        checkedOut.body.update,
        'the same update, answered again after the cart closed',
      );
      assert.equal(acceptedUpdates(await history(cartId)), 1);
      assert.equal(signalled.statusCode, 202);
      assert.deepEqual(signalled.body, {
        action: 'signal',
        workflowId: `cart-${cartId}`,
        workflowType: 'cart',
        namespace: 'default',
        started: false,
        signal: 'addItem',
      });
      assert.equal(checkedOut.statusCode, 200);
      assert.deepEqual(
        checkedOut.body.update.result.items.map(({ sku }: { sku: string }) => sku),
        ['book', 'pen'],
      );
    });

    it('answers 202 with the status URL when the update does not complete within Prefer: wait, and the status shows the result later', async () => {
      const cartId = uid();
      await post(`/carts/${cartId}/items`, { sku: 'book', quantity: 1 });

      const started = Date.now();
      const held = await post(`/carts/${cartId}/checkout`, { holdSeconds: 3 }, { prefer: 'wait=1' });

      assert.ok(Date.now() - started < 2_900, 'answered before the update completed');
      assert.equal(held.statusCode, 202);
      assert.equal(held.body.update.status, 'ACCEPTED');
      assert.equal('result' in held.body.update, false);
      await cart(cartId).result();
      const shown = await get(`/workflows/cart-${cartId}`);
      assert.equal(shown.body.status, 'COMPLETED');
      assert.deepEqual(shown.body.result.items, [{ sku: 'book', quantity: 1 }]);
    });

    it('answers 409 for signalWithStart and updateWithStart on a closed workflow whose ID may not be reused, delivering nothing', async () => {
      const cartId = uid();
      await post(`/carts/${cartId}/items`, { sku: 'book', quantity: 1 });
      await post(`/carts/${cartId}/checkout`, {});
      await cart(cartId).result();

      const signalled = await post(`/carts/${cartId}/items`, { sku: 'pen', quantity: 1 });
      const updated = await post(`/carts/${cartId}/count`, { sku: 'pen', quantity: 1 });

      assert.equal(signalled.statusCode, 409);
      assert.match(signalled.body.detail, /is closed \(COMPLETED\).*the signal was not delivered/);
      assert.equal(updated.statusCode, 409);
      assert.equal((await stack.runs(`cart-${cartId}`)).length, 1, 'no second run');
      assert.equal(signals(await history(cartId)), 1);
    });
  });

  describe('SQS', () => {
    it('a redelivered signalWithStart message gives one run and one signal; another message signals the same run', async () => {
      const cartId = uid();
      const message = cartRecord('items', { cartId, item: { sku: 'book', quantity: 1 } });

      const deliveries = [await deliver(message), await deliver(message)];
      const other = await deliver(cartRecord('items', { cartId, item: { sku: 'pen', quantity: 1 } }));

      for (const response of [...deliveries, other]) assert.deepEqual(response.batchItemFailures, []);
      assert.equal((await stack.runs(`cart-${cartId}`)).length, 1);
      assert.equal(await signalsOnceIn(cartId, 2), 2);
    });

    it('a redelivered updateWithStart message runs its update once, waiting for completion as its route asks', async () => {
      const cartId = uid();
      const message = cartRecord('count', { cartId, item: { sku: 'pen', quantity: 1 } });

      const deliveries = [await deliver(message), await deliver(message)];

      for (const response of deliveries) assert.deepEqual(response.batchItemFailures, []);
      assert.equal(acceptedUpdates(await history(cartId)), 1);
      assert.equal((await items(cartId)).length, 1, 'completed before the invocation returned');
    });

    it('fails a rejected update permanently', async () => {
      const cartId = uid();
      const message = cartRecord('count', { cartId, item: { sku: '', quantity: 1 } });

      const { result, records } = await captureLogs(() => deliver(message));

      assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: message.messageId }]);
      const failure = records.find((record) => record.eventId === message.messageId);
      assert.equal(failure?.permanent, true);
      assert.equal(failure?.reason, 'UpdateRejectedError');
    });

    it('retries a signal to a workflow not started yet within missingWorkflowRetrySeconds of the send, then fails permanently', async () => {
      const cartId = uid();
      const recent = cartRecord('add', { cartId, item: { sku: 'pen', quantity: 1 } }, undefined, Date.now());
      const old = cartRecord(
        'add',
        { cartId, item: { sku: 'pen', quantity: 1 } },
        undefined,
        Date.now() - 301_000,
      );

      const { result, records } = await captureLogs(() => deliver(recent, old));

      assert.equal(result.batchItemFailures.length, 2, 'both are reported; SQS retries, or moves to the DLQ');
      const failureOf = (record: SQSRecord) => records.find((line) => line.eventId === record.messageId);
      assert.deepEqual(
        [failureOf(recent)?.reason, failureOf(recent)?.permanent],
        ['WorkflowNotStartedError', false],
      );
      assert.deepEqual([failureOf(old)?.reason, failureOf(old)?.permanent], ['WorkflowNotFoundError', true]);

      await deliver(cartRecord('items', { cartId, item: { sku: 'book', quantity: 1 } }));
      assert.deepEqual((await deliver(recent)).batchItemFailures, [], 'delivered once the cart exists');
      assert.deepEqual((await deliver(recent)).batchItemFailures, [], 'and redelivered');
      assert.deepEqual(
        (await items(cartId)).map(({ sku }) => sku),
        ['book', 'pen'],
      );
    });
  });

  describe('EventBridge', () => {
    it('the same event delivered twice signals once, or updates once; an update event waits until the update is accepted', async () => {
      const cartId = uid();
      const event = cartEvent('items', { cartId, item: { sku: 'book', quantity: 1 } });

      const results = [await emit(event), await emit(event)];
      const count = cartEvent('count', { cartId, item: { sku: 'pen', quantity: 1 } });
      const counted = [await emit(count), await emit(count)];
      const checkedOut = await emit(cartEvent('checkout', { cartId }));

      for (const { error } of [...results, ...counted, checkedOut]) assert.equal(error, undefined);
      assert.equal(signals(await history(cartId)), 1);
      assert.equal(acceptedUpdates(await history(cartId)), 2);
      const { items: final } = await cart(cartId).result();
      assert.deepEqual(
        final.map(({ sku }: { sku: string }) => sku),
        ['book', 'pen'],
      );
    });

    it('an update to a missing workflow is retried while the event is recent, and fails permanently after', async () => {
      const cartId = uid();
      const recent = await emit(cartEvent('checkout', { cartId }));
      const old = await emit(cartEvent('checkout', { cartId }, new Date(Date.now() - 301_000).toISOString()));

      assert.equal(recent.error?.name, 'WorkflowNotStartedError');
      assert.equal(old.error?.name, 'WorkflowNotFoundError');
    });
  });

  describe('start options', () => {
    it('sets the type and route options on the run: memo, typed search attributes, delay, timeouts, retry, priority, summary', async () => {
      const orderId = uid();
      const response = await post('/customers/acme/orders', { orderId, total: '12.5', vip: 'true' });
      assert.equal(response.statusCode, 202);

      const handle = stack.client.workflow.getHandle(`order-${orderId}`);
      const description = await handle.describe();
      const [started] = (await handle.fetchHistory()).events ?? [];
      const attributes = started?.workflowExecutionStartedEventAttributes;

      assert.deepEqual(description.memo, {
        team: 'shop',
        channel: 'api',
        customer: 'acme',
        'triggers.startedBy': { route: 'orders-with-options', action: 'start' },
      });
      assert.deepEqual(description.searchAttributes.TriggersCustomer, ['acme']);
      assert.deepEqual(description.searchAttributes.TriggersTotal, [12.5]);
      assert.deepEqual(description.searchAttributes.TriggersVip, [true]);
      assert.equal(Number(attributes?.firstWorkflowTaskBackoff?.seconds), 1);
      assert.equal(Number(attributes?.workflowExecutionTimeout?.seconds), 3600);
      assert.equal(Number(attributes?.workflowRunTimeout?.seconds), 1800);
      assert.equal(Number(attributes?.workflowTaskTimeout?.seconds), 20);
      assert.equal(attributes?.retryPolicy?.maximumAttempts, 3);
      assert.equal(Number(attributes?.retryPolicy?.initialInterval?.seconds), 2);
      assert.deepEqual(attributes?.retryPolicy?.nonRetryableErrorTypes, ['CardDeclined']);
      assert.equal(attributes?.priority?.priorityKey, 2);
      assert.equal(attributes?.priority?.fairnessKey, 'acme');
      assert.equal(attributes?.priority?.fairnessWeight, 1.5);
      assert.equal(await description.staticSummary(), 'An order');
      assert.equal(await description.staticDetails(), 'Started by **temporal-triggers**');
      assert.deepEqual((await handle.result()) as unknown, {
        processed: true,
        input: { orderId, total: '12.5', vip: 'true' },
      });
    });

    it('refuses a search attribute value of the wrong type: 422 over HTTP, a permanent failure from SQS; nothing starts', async () => {
      const orderId = uid();
      const refused = await post('/customers/acme/orders', { orderId, total: 'a lot', vip: true });
      const message = sqsRecord(
        { orderId, total: 'a lot' },
        { queue: 'orders-with-options', attributes: {} },
      );
      const { result, records } = await captureLogs(() => deliver(message));

      assert.equal(refused.statusCode, 422);
      assert.match(refused.body.detail, /TriggersTotal/);
      assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: message.messageId }]);
      const failure = records.find((record) => record.eventId === message.messageId);
      assert.deepEqual([failure?.reason, failure?.permanent], ['SearchAttributeError', true]);
      assert.equal(await stack.exists(`order-${orderId}`), false);
    });
  });

  describe('namespaces', () => {
    it('starts a type of another namespace through its own address and connection, and reads its status there', async () => {
      const entryId = uid();
      const before = proxy.calls.length;

      const response = await post('/ledger', { entryId, amount: 5 });
      const shown = await get(`/workflows/ledger-${entryId}`);

      assert.equal(response.statusCode, 202);
      assert.equal(response.body.namespace, SECOND_NAMESPACE);
      const other = new Client({ connection: stack.client.connection, namespace: SECOND_NAMESPACE });
      const description = await other.workflow.getHandle(`ledger-${entryId}`).describe();
      assert.equal(description.type, 'ledgerEntry');
      assert.equal(await stack.exists(`ledger-${entryId}`), false, 'not in the default namespace');
      const methods = proxy.calls.slice(before).map((call) => call.method);
      assert.ok(methods.includes('StartWorkflowExecution'), `through the proxy: ${methods.join(', ')}`);
      assert.equal(shown.statusCode, 200);
      assert.equal(shown.body.workflowType, 'ledgerEntry');
      await other.workflow.getHandle(`ledger-${entryId}`).terminate('test done');
    });
  });
});
