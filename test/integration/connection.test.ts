import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { callTemporal } from '#lib/temporal/call.ts';
import { closeTemporal, type Live, replace } from '#lib/temporal/client.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { httpEvent, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.ts';

// These tests share the handler's module-scope client on purpose, and run in order.
describe('the cached Temporal connection', () => {
  let stack: Stack;
  let proxy: TcpProxy;
  let invoke: (event: unknown, timeoutMs?: number) => Promise<APIGatewayProxyStructuredResultV2>;

  before(async () => {
    stack = await startStack();
    proxy = await startTcpProxy(stack.address);
    process.env.TEMPORAL_ADDRESS = proxy.address;
    // A wide margin, so that "answered within the deadline" holds on a loaded machine too.
    process.env.DEADLINE_MARGIN_MS = '1500';
    const { handler } = await import('../../functions/http.ts');
    invoke = async (event, timeoutMs = 10_000) =>
      (await handler(event as never, lambdaContext({ timeoutMs }))) as APIGatewayProxyStructuredResultV2;
  });
  after(async () => {
    await closeTemporal();
    await proxy?.close();
    await stack?.stop();
  });

  it('answers 503 with Retry-After within the deadline while Temporal is down, and does not cache the failure', async () => {
    proxy.refuse(true);
    const started = Date.now();
    const { result: down, records } = await captureLogs(() =>
      invoke(httpEvent({ path: '/orders/acme', body: { orderId: uid() } }), 4_000),
    );
    assert.equal(down.statusCode, 503);
    assert.equal(down.headers?.['retry-after'], '1');
    assert.ok(Date.now() - started < 4_000, 'answered before the invocation timed out');
    assert.ok(proxy.refused > 0);
    const logged = records.find((record) => record.reason === 'TemporalUnavailableError');
    assert.equal(logged?.level, 'ERROR');
    assert.equal(logged?.permanent, false);

    proxy.refuse(false);
    const orderId = uid();
    const up = await invoke(httpEvent({ path: '/orders/acme', body: { orderId } }));
    assert.equal(up.statusCode, 202);
    await stack.completed(`order-${orderId}`);
  });

  it('opens exactly one connection across warm invocations', async () => {
    const before = proxy.forwarded;
    for (let i = 0; i < 3; i += 1) {
      const response = await invoke(httpEvent({ path: '/orders/acme', body: { orderId: uid() } }));
      assert.equal(response.statusCode, 202);
    }
    assert.equal(before, 1, 'the first successful invocation connected once');
    assert.equal(proxy.forwarded, 1, 'later invocations reused that connection');
  });

  /** A call that holds the connection until released, then makes a real request on it. */
  const heldCall = async () => {
    const gate = Promise.withResolvers<void>();
    const held = Promise.withResolvers<Live>();
    const result = callTemporal({}, Date.now() + 10_000, async (temporal) => {
      held.resolve(temporal as Live);
      await gate.promise;
      return temporal.connection.workflowService.getSystemInfo({});
    });
    return { live: await held.promise, release: () => gate.resolve(), result };
  };

  it('closes a replaced connection only once the calls on it have ended, and those calls succeed', async () => {
    const call = await heldCall();
    const replaced = call.live;

    const successor = await replace(replaced, 'a test replaces it', Date.now() + 5_000);
    assert.notEqual(successor, replaced);
    assert.equal(replaced.retired, true);
    call.release();

    assert.ok(await call.result, 'the call on the replaced connection ended normally');
    const response = await invoke(httpEvent({ path: '/orders/acme', body: { orderId: uid() } }));
    assert.equal(response.statusCode, 202, 'the successor serves the next invocation');
  });

  it('lets closeTemporal wait for a call in flight, which succeeds', async () => {
    const call = await heldCall();
    let closed = false;
    const closing = closeTemporal().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(closed, false, 'not closed while a call is on the connection');
    call.release();

    assert.ok(await call.result, 'the call ended normally');
    await closing;
    assert.equal(closed, true);
  });
});
