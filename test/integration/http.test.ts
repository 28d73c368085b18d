import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { fixture, httpEvent, restEvent, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

describe('http handler against a real Temporal server', () => {
  let stack: Stack;
  let invoke: (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

  before(async () => {
    stack = await startStack();
    const { handler } = await import('../../functions/http.ts');
    invoke = async (event) =>
      (await handler(event as never, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  });
  after(() => stack?.stop());

  const json = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body));

  it('starts the routed workflow, which the worker completes with the templated input', async () => {
    const orderId = uid();
    const response = await invoke(httpEvent({ path: '/orders/acme', body: { orderId, items: ['book'] } }));

    assert.equal(response.statusCode, 202);
    assert.equal(response.headers?.location, `/workflows/order-${orderId}`);
    const body = json(response);
    assert.deepEqual(
      { ...body, runId: typeof body.runId },
      {
        action: 'start',
        workflowId: `order-${orderId}`,
        runId: 'string',
        workflowType: 'processOrder',
        taskQueue: 'orders',
        namespace: 'default',
        started: true,
      },
    );
    const { description, result } = await stack.completed(`order-${orderId}`);
    assert.equal(description.type, 'processOrder');
    assert.equal(description.taskQueue, 'orders');
    assert.equal(description.runId, body.runId);
    assert.deepEqual(result, {
      processed: true,
      input: { order: { orderId, items: ['book'] }, tenant: 'acme' },
    });
  });

  it('answers a repeated request with 200, started: false and the same run, after completion too', async () => {
    const orderId = uid();
    const event = httpEvent({ path: '/orders/acme', body: { orderId } });
    const first = json(await invoke(event));
    await stack.completed(`order-${orderId}`);

    const again = await invoke(event);
    assert.equal(again.statusCode, 200);
    assert.equal(json(again).started, false);
    assert.equal(json(again).runId, first.runId);
  });

  it('starts the same workflow from a REST API (payload 1.0) request', async () => {
    const orderId = uid();
    const event = restEvent();
    event.body = JSON.stringify({ orderId });
    const response = await invoke(event);
    assert.equal(response.statusCode, 202);
    const { result } = await stack.completed(`order-${orderId}`);
    assert.deepEqual(result, { processed: true, input: { order: { orderId }, tenant: 'acme' } });
  });

  it('starts an allow-listed type through POST /workflows/{type}, keyed by Idempotency-Key', async () => {
    const key = uid();
    const event = fixture<Record<string, unknown> & { headers: Record<string, string> }>(
      'http/v2-canonical.json',
    );
    event.headers['idempotency-key'] = key;
    const response = await invoke(event);
    assert.equal(response.statusCode, 202);
    assert.equal(json(response).workflowId, `processOrder-${key}`);
    const { result } = await stack.completed(`processOrder-${key}`);
    assert.deepEqual(result, { processed: true, input: { cart: ['book'] } });

    const retried = await invoke(event);
    assert.equal(retried.statusCode, 200);
    assert.equal(json(retried).runId, json(response).runId);
  });

  it('answers bad requests with problem+json and starts nothing', async () => {
    const orderId = uid();
    const cases: [unknown, number][] = [
      [httpEvent({ path: '/orders/acme', body: `{"orderId":"${orderId}"` }), 400],
      [httpEvent({ path: '/workflows/dropTables', body: { orderId } }), 403],
      [httpEvent({ path: '/nowhere', body: { orderId } }), 404],
      [httpEvent({ method: 'DELETE', path: '/orders/acme', body: { orderId } }), 405],
      [httpEvent({ path: '/orders/acme', body: { id: orderId } }), 422],
    ];
    for (const [event, status] of cases) {
      const response = await invoke(event);
      assert.equal(response.statusCode, status);
      assert.equal(response.headers?.['content-type'], 'application/problem+json');
      assert.equal(json(response).status, status);
    }
    await assert.rejects(stack.client.workflow.getHandle(`order-${orderId}`).describe(), /not found/i);
  });

  it('logs a client error once at WARN, with the request id, the reason and no body', async () => {
    const secret = `card-${uid()}`;
    const event = httpEvent({ path: '/workflows/dropTables', body: { card: secret } });
    const { result, lines, records } = await captureLogs(() => invoke(event));
    assert.equal(result.statusCode, 403);
    assert.ok(!lines.some((line) => line.includes(secret)));
    const logged = records.filter((record) => record.eventId === event.requestContext.requestId);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.level, 'WARN');
    assert.equal(logged[0]?.reason, 'WorkflowNotAllowedError');
    assert.equal(logged[0]?.permanent, true);
  });
});
