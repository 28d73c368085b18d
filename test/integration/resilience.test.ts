import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Metadata, status } from '@grpc/grpc-js';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { resetConfig } from '#lib/config.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { eventBridgeEvent, httpEvent, sqsEvent, sqsRecord, uid } from '../helpers/events.ts';
import { type GrpcProxy, startGrpcProxy } from '../helpers/grpcProxy.ts';
import { acceptedUpdates, signals } from '../helpers/history.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';
import { startWarmHandler, type WarmHandler } from '../helpers/warmHandler.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
type CallTemporal = typeof import('#lib/temporal/call.ts').callTemporal;

// Short keepalive settings, so that "idle longer than the keepalive time" and "longer than the
// keepalive timeout" take a second, not minutes.
const KEEPALIVE = { TEMPORAL_KEEPALIVE_TIME_MS: '1000', TEMPORAL_KEEPALIVE_TIMEOUT_MS: '1000' };

// The handlers share one execution environment (module scope) here, and the tests run in order.
describe('the Temporal connection across outages, throttling, black holes and freezes', () => {
  let stack: Stack;
  let proxy: GrpcProxy;
  let http: Handler;
  let sqs: Handler;
  let eventbridge: Handler;
  let callTemporal: CallTemporal;
  let closeTemporal: () => Promise<void>;

  const post = async (path: string, body: unknown, timeoutMs = 10_000) => {
    const started = Date.now();
    const response = (await http(
      httpEvent({ path, body }),
      lambdaContext({ timeoutMs }),
    )) as APIGatewayProxyStructuredResultV2;
    return { response, elapsedMs: Date.now() - started };
  };
  const order = async (timeoutMs = 10_000) => {
    const orderId = uid();
    return { ...(await post('/orders/acme', { orderId }, timeoutMs)), workflowId: `order-${orderId}` };
  };
  /** How many runs with this workflow ID the server has, once its visibility store shows the first. */
  const runs = async (workflowId: string): Promise<number> => {
    const until = Date.now() + 10_000;
    for (;;) {
      let count = 0;
      for await (const _ of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) count += 1;
      if (count > 0 || Date.now() > until) return count;
      await sleep(200);
    }
  };
  const calls = (method: string) => proxy.calls.filter((call) => call.method === method);
  /** The methods of the calls the server got while `fn` ran. */
  const callsDuring = async <T>(fn: () => Promise<T>): Promise<{ result: T; methods: string[] }> => {
    const before = proxy.calls.length;
    const result = await fn();
    return { result, methods: proxy.calls.slice(before).map((call) => call.method) };
  };
  const cartHistory = async (cartId: string) =>
    (await stack.client.workflow.getHandle(`cart-${cartId}`).fetchHistory()).events ?? [];

  before(async () => {
    stack = await startStack(['orders', 'reports', 'carts']);
    proxy = await startGrpcProxy({ target: stack.address });
    Object.assign(process.env, KEEPALIVE, { TEMPORAL_ADDRESS: proxy.address, DEADLINE_MARGIN_MS: '500' });
    resetConfig();
    ({ closeTemporal } = await import('#lib/temporal/client.ts'));
    ({ callTemporal } = await import('#lib/temporal/call.ts'));
    http = (await import('../../functions/http.ts')).handler as Handler;
    sqs = (await import('../../functions/sqs.ts')).handler as Handler;
    eventbridge = (await import('../../functions/eventbridge.ts')).handler as Handler;
  });
  after(async () => {
    await closeTemporal?.();
    await proxy?.close();
    await stack?.stop();
  });

  it('fails fast and cleanly while Temporal is down at cold start, in every trigger, then connects', async (t) => {
    await closeTemporal();
    proxy.tcp.refuse(true);

    const down = await order();
    const batch = sqsEvent(sqsRecord({ orderId: uid() }), sqsRecord({ orderId: uid() }));
    const sqsStarted = Date.now();
    const failures = (await sqs(batch, lambdaContext())) as SQSBatchResponse;
    const sqsMs = Date.now() - sqsStarted;
    const thrown = await eventbridge(eventBridgeEvent({ orderId: uid() }), lambdaContext()).catch(
      (error: unknown) => error,
    );

    assert.equal(down.response.statusCode, 503);
    assert.equal(down.response.headers?.['retry-after'], '1');
    assert.ok(down.elapsedMs < 1_000, `HTTP answered in ${down.elapsedMs} ms, not at its 9.5 s deadline`);
    assert.deepEqual(
      failures.batchItemFailures.map((failure) => failure.itemIdentifier).sort(),
      batch.Records.map((record) => record.messageId).sort(),
    );
    assert.ok(sqsMs < 1_000, `SQS answered in ${sqsMs} ms`);
    assert.equal((thrown as Error).name, 'TemporalUnavailableError');
    t.diagnostic(`down at cold start: HTTP 503 after ${down.elapsedMs} ms, SQS batch after ${sqsMs} ms`);

    proxy.tcp.refuse(false);
    const { result: up, methods } = await callsDuring(() => order());
    assert.equal(up.response.statusCode, 202);
    assert.deepEqual(methods, ['StartWorkflowExecution'], 'the connect costs no call of its own');
    assert.equal(await runs(up.workflowId), 1);
  });

  it('sends the real call at once after an idle gap longer than the keepalive time: one call, no check', async () => {
    assert.equal((await order()).response.statusCode, 202);
    await sleep(1_100);

    const { result, methods } = await callsDuring(() => order());

    assert.equal(result.response.statusCode, 202);
    assert.deepEqual(methods, ['StartWorkflowExecution']);
  });

  it('recovers from a black-holed connection on a fresh one, well within the deadline, with one workflow', async (t) => {
    assert.equal((await order()).response.statusCode, 202);
    const connections = proxy.tcp.forwarded;
    proxy.tcp.blackhole();
    await sleep(1_100);

    const { result: sent, lines } = await captureLogs(() => callsDuring(() => order(10_000)));
    const { response, workflowId, elapsedMs } = sent.result;

    assert.equal(response.statusCode, 202);
    assert.ok(elapsedMs < 3_000, `answered in ${elapsedMs} ms of a 9.5 s deadline`);
    assert.ok(proxy.tcp.forwarded > connections, 'on a new connection');
    assert.equal(await runs(workflowId), 1);
    assert.deepEqual(sent.methods, ['StartWorkflowExecution'], 'no check first');
    // gRPC's keepalive ping found the transport dead, and the retry went out on the channel's next one.
    assert.ok(!lines.some((line) => line.includes('Replacing the Temporal connection')));
    t.diagnostic(`black hole: recovered in ${elapsedMs} ms (keepalive timeout 1000 ms)`);
  });

  it('sends a whole SQS batch at once on a black-holed idle connection, and again on one new connection', async () => {
    assert.equal((await order()).response.statusCode, 202);
    proxy.tcp.blackhole();
    await sleep(1_100);
    const connections = proxy.tcp.forwarded;
    const orderIds = [uid(), uid(), uid()];

    const started = Date.now();
    const { result, methods } = await callsDuring(
      async () =>
        (await sqs(
          sqsEvent(...orderIds.map((orderId) => sqsRecord({ orderId }))),
          lambdaContext(),
        )) as SQSBatchResponse,
    );
    const elapsedMs = Date.now() - started;

    assert.deepEqual(result.batchItemFailures, []);
    assert.ok(elapsedMs < 3_000, `answered in ${elapsedMs} ms`);
    assert.deepEqual(methods, Array(3).fill('StartWorkflowExecution'), 'no check before the starts');
    assert.equal(proxy.tcp.forwarded - connections, 1, 'one new connection for the three records');
    for (const orderId of orderIds) assert.equal(await runs(`order-${orderId}`), 1);
  });

  describe('sends a call whose answer was lost with a dead connection again on a new one, with the same IDs', () => {
    /**
     * Idles past the keepalive time, then makes the connection lose what the server sends: the request
     * arrives and is carried out, its answer and the keepalive ping's ack are lost. Returns what the
     * server got during `send`.
     */
    const afterLostAnswers = async <T>(send: () => Promise<T>) => {
      await sleep(1_100);
      const connections = proxy.tcp.forwarded;
      proxy.tcp.dropAnswers();
      const sent = await callsDuring(send);
      assert.ok(proxy.tcp.forwarded > connections, 'sent again on a new connection');
      return sent;
    };

    it('a start: one workflow, reported as started', async () => {
      assert.equal((await order()).response.statusCode, 202);

      const { result, methods } = await afterLostAnswers(() => order());

      assert.equal(result.response.statusCode, 202);
      assert.equal(JSON.parse(String(result.response.body)).started, true);
      assert.ok(result.elapsedMs < 3_000, `answered in ${result.elapsedMs} ms`);
      assert.deepEqual(methods, ['StartWorkflowExecution', 'StartWorkflowExecution']);
      assert.equal(await runs(result.workflowId), 1);
    });

    it('a signal with start: one workflow, one signal', async () => {
      const cartId = uid();
      assert.equal((await order()).response.statusCode, 202);

      const { result, methods } = await afterLostAnswers(() =>
        post(`/carts/${cartId}/items`, { sku: 'book', quantity: 1 }),
      );

      assert.equal(result.response.statusCode, 202);
      // The server answers the second send `started: false`; the run's request IDs say it was this one.
      assert.equal(JSON.parse(String(result.response.body)).started, true);
      assert.deepEqual(methods, [
        'SignalWithStartWorkflowExecution',
        'SignalWithStartWorkflowExecution',
        'DescribeWorkflowExecution',
      ]);
      assert.equal(await runs(`cart-${cartId}`), 1);
      const items = await stack.client.workflow.getHandle(`cart-${cartId}`).query<unknown[]>('items');
      assert.equal(items.length, 1);
      assert.equal(signals(await cartHistory(cartId)), 1);

      // A signal sent once to the running cart: its answer's `started: false` stands, with no describe.
      const next = await callsDuring(() => post(`/carts/${cartId}/items`, { sku: 'pen', quantity: 1 }));
      assert.equal(JSON.parse(String(next.result.response.body)).started, false);
      assert.deepEqual(next.methods, ['SignalWithStartWorkflowExecution']);
    });

    it('an update with start, then an update: one workflow, each update run once', async () => {
      const cartId = uid();
      assert.equal((await order()).response.statusCode, 202);

      const counted = await afterLostAnswers(() =>
        post(`/carts/${cartId}/count`, { sku: 'pen', quantity: 2 }),
      );
      const checkedOut = await afterLostAnswers(() => post(`/carts/${cartId}/checkout`, {}));

      assert.equal(counted.result.response.statusCode, 200);
      const body = JSON.parse(String(counted.result.response.body));
      assert.equal(body.started, true, 'the update with start started the run');
      assert.deepEqual(
        { status: body.update.status, result: body.update.result },
        { status: 'COMPLETED', result: 1 },
      );
      assert.deepEqual(counted.methods.slice(0, 2), ['ExecuteMultiOperation', 'ExecuteMultiOperation']);
      assert.ok([200, 202].includes(checkedOut.result.response.statusCode ?? 0));
      assert.deepEqual(checkedOut.methods.slice(0, 2), [
        'UpdateWorkflowExecution',
        'UpdateWorkflowExecution',
      ]);
      assert.equal(await runs(`cart-${cartId}`), 1);
      assert.equal(acceptedUpdates(await cartHistory(cartId)), 2, 'one count and one checkout');
    });
  });

  it('cuts a call on a connection that stayed silent after its last call failed, and sends it again on a new one', async (t) => {
    // A keepalive time longer than the test: no gRPC ping finds the dead connection first.
    Object.assign(process.env, { TEMPORAL_KEEPALIVE_TIME_MS: '600000' });
    resetConfig();
    await closeTemporal();
    try {
      assert.equal((await order()).response.statusCode, 202);
      proxy.tcp.dropAnswers();
      const failed = await order(2_000);
      assert.equal(failed.response.statusCode, 504);
      const connections = proxy.tcp.forwarded;

      const { result: logged, lines } = await captureLogs(() => callsDuring(() => order()));
      const { result, methods } = logged;

      assert.equal(result.response.statusCode, 202);
      assert.equal(JSON.parse(String(result.response.body)).started, true);
      assert.ok(result.elapsedMs < 3_000, `answered in ${result.elapsedMs} ms (keepalive timeout 1000 ms)`);
      assert.deepEqual(methods, ['StartWorkflowExecution', 'StartWorkflowExecution'], 'no check first');
      assert.equal(proxy.tcp.forwarded - connections, 1);
      assert.equal(await runs(result.workflowId), 1);
      assert.ok(lines.some((line) => line.includes('no answer within 1000 ms after a call failed')));
      t.diagnostic(`silent suspect connection: answered in ${result.elapsedMs} ms`);
    } finally {
      Object.assign(process.env, KEEPALIVE);
      resetConfig();
      await closeTemporal();
    }
  });

  it('answers 504 within the deadline when Temporal answers too late, and the next invocation succeeds', async () => {
    await order();
    proxy.delay(5_000);

    const late = await order(2_000);
    proxy.heal();
    const next = await order();

    assert.equal(late.response.statusCode, 504);
    assert.ok(late.elapsedMs < 2_000, `answered in ${late.elapsedMs} ms of a 2 s invocation`);
    assert.equal(next.response.statusCode, 202);
    await assert.rejects(stack.client.workflow.getHandle(late.workflowId).describe(), /not found/i);
  });

  it('retries a throttled start with backoff: RESOURCE_EXHAUSTED twice, then one workflow', async (t) => {
    await order();
    const before = calls('StartWorkflowExecution').length;
    proxy.inject(status.RESOURCE_EXHAUSTED, 2, 'StartWorkflowExecution');

    const { response, workflowId, elapsedMs } = await order(15_000);

    assert.equal(response.statusCode, 202);
    assert.deepEqual(
      calls('StartWorkflowExecution')
        .slice(before)
        .map((call) => call.outcome),
      ['injected', 'injected', 'forwarded'],
    );
    assert.equal(await runs(workflowId), 1);
    t.diagnostic(`throttled twice: 202 after ${elapsedMs} ms`);
  });

  it('rides out UNAVAILABLE answers with the SDK retries: one workflow', async () => {
    await order();
    const before = calls('StartWorkflowExecution').length;
    proxy.inject(status.UNAVAILABLE, 3, 'StartWorkflowExecution');

    const { response, workflowId } = await order();

    assert.equal(response.statusCode, 202);
    assert.deepEqual(
      calls('StartWorkflowExecution')
        .slice(before)
        .map((call) => call.outcome),
      ['injected', 'injected', 'injected', 'forwarded'],
    );
    assert.equal(await runs(workflowId), 1);
  });

  it('answers 503 before the deadline when throttling outlasts it, instead of timing out', async () => {
    proxy.inject(status.RESOURCE_EXHAUSTED, 100, 'StartWorkflowExecution');

    const { response, elapsedMs } = await order(3_000);
    proxy.heal();

    // 503, not 504: the handler gave up on the throttled start itself, before its deadline (2.5 s);
    // the time is checked against the invocation's 3 s only, which Lambda would not let it outlive.
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers?.['retry-after'], '1');
    assert.ok(elapsedMs < 3_000, `answered in ${elapsedMs} ms of a 3 s invocation`);
  });

  it('retries a start whose answer was lost with the same request ID: one workflow, reported as started', async () => {
    proxy.loseAnswers(1, 'StartWorkflowExecution');

    const { response, workflowId } = await order();

    assert.equal(response.statusCode, 202);
    assert.equal(JSON.parse(String(response.body)).started, true);
    assert.deepEqual(
      calls('StartWorkflowExecution')
        .slice(-2)
        .map((call) => call.outcome),
      ['answer lost', 'forwarded'],
    );
    assert.equal(await runs(workflowId), 1);
  });

  it('runs a call again on a new connection, once, when it fails UNAVAILABLE after the SDK retries', async () => {
    const unavailable = Object.assign(new Error('14 UNAVAILABLE: gone'), {
      code: status.UNAVAILABLE,
      details: 'gone',
      metadata: new Metadata(),
    });
    const seen: unknown[] = [];
    const connections = proxy.tcp.forwarded;

    const result = await callTemporal({}, Date.now() + 5_000, async ({ connection }) => {
      seen.push(connection);
      if (seen.length === 1) throw unavailable;
      return (await connection.workflowService.getSystemInfo({})).serverVersion;
    });
    const again = callTemporal({}, Date.now() + 5_000, async () => {
      throw unavailable;
    });

    assert.equal(typeof result, 'string');
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0], seen[1]);
    assert.equal(proxy.tcp.forwarded, connections + 1);
    await assert.rejects(again, (error: unknown) => error === unavailable, 'the second failure is final');
  });

  describe('in a process frozen between invocations (SIGSTOP), as Lambda freezes one', () => {
    let environment: WarmHandler;
    const invoke = async () => {
      const orderId = uid();
      const { result, elapsedMs } = await environment.invoke(
        httpEvent({ path: '/orders/acme', body: { orderId } }),
      );
      return {
        response: result as APIGatewayProxyStructuredResultV2,
        workflowId: `order-${orderId}`,
        elapsedMs,
      };
    };

    before(async () => {
      environment = await startWarmHandler({
        env: { ...process.env, ...KEEPALIVE, TEMPORAL_ADDRESS: proxy.address, DEADLINE_MARGIN_MS: '500' },
      });
      assert.equal((await invoke()).response.statusCode, 202);
    });
    after(() => environment?.stop());

    it('succeeds after a freeze longer than the keepalive timeout', async (t) => {
      environment.freeze();
      await sleep(3_000);
      environment.thaw();

      const { response, workflowId, elapsedMs } = await invoke();

      assert.equal(response.statusCode, 202, environment.output.join('\n'));
      assert.equal(await runs(workflowId), 1);
      t.diagnostic(`thawed after 3 s frozen: answered in ${elapsedMs} ms`);
    });

    it('succeeds on a fresh connection after a freeze during which the network dropped the connection', async (t) => {
      const connections = proxy.tcp.forwarded;
      environment.freeze();
      proxy.tcp.blackhole();
      await sleep(3_000);
      environment.thaw();

      const { response, workflowId, elapsedMs } = await invoke();

      assert.equal(response.statusCode, 202, environment.output.join('\n'));
      assert.ok(elapsedMs < 3_000, `answered in ${elapsedMs} ms of a 9.5 s deadline`);
      assert.ok(proxy.tcp.forwarded > connections, 'on a new connection');
      assert.equal(await runs(workflowId), 1);
      t.diagnostic(`thawed onto a black hole: answered in ${elapsedMs} ms`);
    });
  });
});
