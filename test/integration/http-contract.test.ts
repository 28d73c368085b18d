import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { canarySecret } from '../helpers/canary.ts';
import { fixture, httpEvent, restEvent, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Moto, startMoto } from '../helpers/moto.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const GITHUB_SECRET = canarySecret('gh');
const STRIPE_SECRET = canarySecret('whsec');
const ORIGIN = 'https://shop.example.com';

describe('the HTTP contract against a real Temporal server', () => {
  let stack: Stack;
  let moto: Moto;
  let invoke: (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

  before(async () => {
    stack = await startStack();
    moto = await startMoto();
    Object.assign(process.env, moto.env);
    process.env.ROUTES_FILE = new URL('../routes/contract.json', import.meta.url).pathname;
    process.env.GITHUB_WEBHOOK_SECRET = GITHUB_SECRET;
    process.env.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET;
    process.env.CORS_ALLOW_ORIGINS = `${ORIGIN}, https://admin.example.com`;
    const { handler } = await import('../../functions/http.ts');
    invoke = async (event) =>
      (await handler(event as never, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  });
  after(async () => {
    await moto?.stop();
    await stack?.stop();
  });

  const json = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body));
  const canonical = (workflowType: string, body: unknown, headers: Record<string, string> = {}) =>
    httpEvent({ path: `/workflows/${workflowType}`, body, headers });

  describe('starting', () => {
    it('starts one workflow for the same request sent as payload 1.0 and as payload 2.0', async () => {
      const orderId = uid();
      const v2 = fixture<APIGatewayProxyEventV2>('http/v2-post-order.json');
      v2.body = Buffer.from(JSON.stringify({ orderId })).toString('base64');
      v2.isBase64Encoded = true;
      const v1 = restEvent() as APIGatewayProxyEvent;
      v1.body = JSON.stringify({ orderId });

      const first = await invoke(v2);
      const second = await invoke(v1);
      assert.equal(first.statusCode, 202);
      assert.equal(second.statusCode, 200);
      assert.equal(json(second).workflowId, `order-${orderId}`);
      assert.equal(json(second).runId, json(first).runId);
      assert.deepEqual((await stack.completed(`order-${orderId}`)).result, {
        processed: true,
        input: { order: { orderId }, tenant: 'acme' },
      });
    });

    it('answers a retried POST with the same Idempotency-Key with 200, started: false and the same run', async () => {
      const key = uid();
      const first = await invoke(canonical('processOrder', { n: 1 }, { 'idempotency-key': key }));
      const retried = await invoke(canonical('processOrder', { n: 1 }, { 'idempotency-key': key }));
      assert.equal(first.statusCode, 202);
      assert.equal(retried.statusCode, 200);
      assert.deepEqual(
        { ...json(retried), started: true },
        json(first),
        'the same workflowId and runId, only started differs',
      );
      assert.equal(json(retried).started, false);
    });

    describe('an Idempotency-Key sent again', () => {
      const reused = (response: APIGatewayProxyStructuredResultV2, key: string) => {
        assert.equal(response.statusCode, 422);
        assert.equal(response.headers?.['content-type'], 'application/problem+json');
        const problem = json(response);
        assert.equal(problem.type, 'urn:temporal-triggers:problem:idempotency-key-reused');
        assert.equal(problem.idempotencyKey, key);
        assert.match(problem.detail, new RegExp(`"${key}" was already used for a different request`));
      };

      it('with a different body, while the workflow runs, answers 422 naming the key', async () => {
        const key = uid();
        // No worker polls backorder's task queue: it is still running when the key comes again.
        const first = await invoke(canonical('backorder', { sku: 'A' }, { 'idempotency-key': key }));
        assert.equal(first.statusCode, 202);
        reused(await invoke(canonical('backorder', { sku: 'B' }, { 'idempotency-key': key })), key);
        const same = await invoke(canonical('backorder', { sku: 'A' }, { 'idempotency-key': key }));
        assert.equal(same.statusCode, 200);
        assert.equal(json(same).runId, json(first).runId);
        assert.deepEqual(await stack.runs(`backorder-${key}`), [json(first).runId]);
      });

      it('after the workflow closed: the same body is still a 200 duplicate, another body a 422', async () => {
        const key = uid();
        const first = await invoke(canonical('processOrder', { n: 1 }, { 'idempotency-key': key }));
        assert.equal(first.statusCode, 202);
        await stack.completed(`processOrder-${key}`);
        const same = await invoke(canonical('processOrder', { n: 1 }, { 'idempotency-key': key }));
        assert.equal(same.statusCode, 200);
        assert.equal(json(same).started, false);
        assert.equal(json(same).runId, json(first).runId);
        reused(await invoke(canonical('processOrder', { n: 2 }, { 'idempotency-key': key })), key);
        assert.deepEqual(await stack.runs(`processOrder-${key}`), [json(first).runId]);
      });

      it('compares only what the key started: a workflow started without it, or under another, is a duplicate', async () => {
        const orderId = uid();
        const order = (body: unknown, headers: Record<string, string> = {}) =>
          httpEvent({ path: '/orders/acme', body, headers });
        const first = await invoke(order({ orderId }));
        assert.equal(first.statusCode, 202);
        const keyed = await invoke(order({ orderId, note: 'other' }, { 'idempotency-key': uid() }));
        assert.equal(keyed.statusCode, 200);
        assert.equal(json(keyed).runId, json(first).runId);
      });
    });

    it('starts one workflow when two invocations race to start the same ID', async () => {
      const key = uid();
      const event = () => canonical('processOrder', {}, { 'idempotency-key': key });
      const responses = await Promise.all([invoke(event()), invoke(event())]);
      assert.deepEqual(responses.map((response) => response.statusCode).sort(), [200, 202]);
      assert.equal(json(responses[0] as never).runId, json(responses[1] as never).runId);
    });

    it('answers 409 while a workflow whose conflict policy is FAIL is running', async () => {
      const key = uid();
      const first = await invoke(canonical('approveRefund', { refund: 1 }, { 'idempotency-key': key }));
      assert.equal(first.statusCode, 202);
      const again = await invoke(canonical('approveRefund', { refund: 1 }, { 'idempotency-key': key }));
      assert.equal(again.statusCode, 409);
      assert.equal(again.headers?.['content-type'], 'application/problem+json');
      assert.equal(json(again).type, 'urn:temporal-triggers:problem:workflow-conflict');
      await stack.client.workflow.getHandle(`approveRefund-${key}`).terminate('test done');
    });
  });

  describe('Prefer: wait', () => {
    it('answers 200 with the result when the workflow completes in time', async () => {
      const response = await invoke(canonical('processOrder', { n: 2 }, { prefer: 'wait=10' }));
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers?.['preference-applied'], 'wait=10');
      const body = json(response);
      assert.equal(body.started, true);
      assert.equal(body.status, 'COMPLETED');
      assert.deepEqual(body.result, { processed: true, input: { n: 2 } });
    });

    it('answers 202 as usual when the workflow is still running when the wait ends', async () => {
      const response = await invoke(
        canonical('approveRefund', { refund: 2 }, { prefer: 'respond-async, wait=1' }),
      );
      assert.equal(response.statusCode, 202);
      const body = json(response);
      assert.equal(body.status, undefined);
      assert.equal(body.started, true);
      await stack.client.workflow.getHandle(body.workflowId).terminate('test done');
    });

    it('answers 200 with the status and failure message of a workflow that failed, not 500', async () => {
      const response = await invoke(canonical('chargeCard', { card: 'declined' }, { prefer: 'wait=10' }));
      assert.equal(response.statusCode, 200);
      const body = json(response);
      assert.equal(body.status, 'FAILED');
      assert.deepEqual(body.failure, { message: 'Card declined' });
      assert.equal(body.result, undefined);
    });
  });

  describe('GET /workflows/{workflowId}', () => {
    const get = (workflowId: string) =>
      invoke(httpEvent({ method: 'GET', path: `/workflows/${encodeURIComponent(workflowId)}` }));

    it('returns a completed workflow with its result', async () => {
      const started = json(await invoke(canonical('processOrder', { n: 3 })));
      await stack.completed(started.workflowId);
      const response = await get(started.workflowId);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers?.['cache-control'], 'no-store');
      const body = json(response);
      assert.deepEqual(
        { ...body, startTime: typeof body.startTime, closeTime: typeof body.closeTime },
        {
          workflowId: started.workflowId,
          runId: started.runId,
          workflowType: 'processOrder',
          status: 'COMPLETED',
          startTime: 'string',
          closeTime: 'string',
          result: { processed: true, input: { n: 3 } },
          startedBy: { route: 'canonical', action: 'start' },
        },
      );
      assert.ok(Date.parse(body.closeTime) >= Date.parse(body.startTime));
    });

    it('returns a running workflow without a close time or result, and a failed one with its failure', async () => {
      const running = json(await invoke(canonical('approveRefund', {})));
      const status = json(await get(running.workflowId));
      assert.equal(status.status, 'RUNNING');
      assert.equal(status.closeTime, null);
      assert.equal('result' in status, false);
      await stack.client.workflow.getHandle(running.workflowId).terminate('test done');

      const failed = json(await invoke(canonical('chargeCard', { card: 'declined' }, { prefer: 'wait=10' })));
      const failure = json(await get(failed.workflowId));
      assert.equal(failure.status, 'FAILED');
      assert.deepEqual(failure.failure, { message: 'Card declined' });
    });

    it('spells a cancelled workflow CANCELED, as Temporal does, in its status and in a wait that saw it close', async () => {
      const key = uid();
      const waiting = invoke(canonical('approveRefund', {}, { 'idempotency-key': key, prefer: 'wait=10' }));
      const workflowId = `approveRefund-${key}`;
      // approveRefund waits for a signal: cancelled while the request waits for it to close.
      for (let tries = 0; !(await stack.exists(workflowId)) && tries < 50; tries += 1) await sleep(100);
      await stack.client.workflow.getHandle(workflowId).cancel();
      const waited = json(await waiting);
      assert.equal(waited.status, 'CANCELED');
      assert.equal(json(await get(workflowId)).status, 'CANCELED');
    });

    it('answers 404 for an unknown ID, and for a workflow outside the allow-list without naming its type', async () => {
      const unknown = await get(`nothing-${uid()}`);
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.headers?.['content-type'], 'application/problem+json');

      const hiddenId = `payroll-${uid()}`;
      await stack.client.workflow.start('runPayroll', { taskQueue: `nobody-${uid()}`, workflowId: hiddenId });
      const hidden = await get(hiddenId);
      assert.equal(hidden.statusCode, 404, 'as if it did not exist: its existence is not told either');
      assert.ok(!String(hidden.body).includes('runPayroll'));
      await stack.client.workflow.getHandle(hiddenId).terminate('test done');
    });
  });

  describe('identity and credentials', () => {
    const as = (event: APIGatewayProxyEventV2, user: string | undefined): APIGatewayProxyEventV2 =>
      user === undefined
        ? event
        : ({
            ...event,
            requestContext: {
              ...event.requestContext,
              authorizer: { iam: { userArn: `arn:aws:iam::123456789012:user/${user}` } },
            },
          } as APIGatewayProxyEventV2);
    const status = (workflowId: string, user: string | undefined) =>
      invoke(as(httpEvent({ method: 'GET', path: `/workflows/${encodeURIComponent(workflowId)}` }), user));

    it('answers 422, not a workflow named "undefined", to a request with no request ID and no Idempotency-Key (ALB)', async () => {
      const response = await invoke(fixture<APIGatewayProxyEvent>('http/alb-post.json'));
      assert.equal(response.statusCode, 422);
      assert.match(json(response).detail, /no Idempotency-Key header or request ID/);
      assert.equal(await stack.exists('processOrder-undefined'), false);
    });

    it('keeps credential-bearing headers out of the workflow input unless the route names them', async () => {
      const token = canarySecret('bearer');
      const key = uid();
      const headers = {
        authorization: `Bearer ${token}`,
        'x-api-key': token,
        'x-tenant': 'acme',
        'idempotency-key': key,
      };
      const response = await invoke(httpEvent({ path: '/echo', body: { n: 1 }, headers }));
      assert.equal(response.statusCode, 202);
      const { result } = await stack.completed(json(response).workflowId);
      const input = (result as { input: { headers: Record<string, string> } }).input;
      assert.equal(input.headers['x-tenant'], 'acme');
      assert.ok(!JSON.stringify(result).includes(token), 'no credential in the input');
    });

    it('scopes an Idempotency-Key to the caller: two callers, one key, two workflows, each visible to its caller only', async () => {
      const key = uid();
      const alice = await invoke(
        as(canonical('processOrder', { who: 'alice' }, { 'idempotency-key': key }), 'alice'),
      );
      const bob = await invoke(
        as(canonical('processOrder', { who: 'bob' }, { 'idempotency-key': key }), 'bob'),
      );
      const again = await invoke(
        as(canonical('processOrder', { who: 'alice' }, { 'idempotency-key': key }), 'alice'),
      );

      assert.equal(alice.statusCode, 202);
      assert.equal(bob.statusCode, 202, "bob's key names a workflow of his own");
      assert.notEqual(json(alice).workflowId, json(bob).workflowId);
      assert.equal(again.statusCode, 200);
      assert.equal(json(again).runId, json(alice).runId);
      const aliceId = json(alice).workflowId as string;
      await stack.completed(aliceId);
      assert.equal((await status(aliceId, 'alice')).statusCode, 200);
      assert.equal((await status(aliceId, 'bob')).statusCode, 404, 'to another caller it does not exist');
      assert.equal((await status(aliceId, undefined)).statusCode, 404);
    });

    it("does not show another caller's result through a shared business key and Prefer: wait", async () => {
      const orderId = uid();
      const order = (user: string, headers: Record<string, string> = {}) =>
        invoke(as(httpEvent({ path: '/orders/acme', body: { orderId }, headers }), user));
      assert.equal((await order('alice')).statusCode, 202);
      await stack.completed(`order-${orderId}`);

      const bob = await order('bob', { prefer: 'wait=5' });
      assert.equal(bob.statusCode, 200);
      assert.equal(json(bob).started, false);
      assert.equal(json(bob).result, undefined, "alice's result is not bob's to read");
      const alice = await order('alice', { prefer: 'wait=5' });
      assert.equal(json(alice).status, 'COMPLETED', 'alice reads her own');
    });
  });

  describe('refusals', () => {
    it('answers 413 for a body over HTTP_MAX_BODY_BYTES (1 MiB) and 415 for a body not declared as JSON; starts nothing', async () => {
      const orderId = uid();
      const big = JSON.stringify({ orderId, pad: 'x'.repeat(1024 * 1024) });
      const tooLarge = await invoke(httpEvent({ path: '/orders/acme', body: big }));
      assert.equal(tooLarge.statusCode, 413);
      const form = await invoke(
        httpEvent({
          path: '/orders/acme',
          body: `orderId=${orderId}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      );
      assert.equal(form.statusCode, 415);
      for (const response of [tooLarge, form]) {
        assert.equal(response.headers?.['content-type'], 'application/problem+json');
      }
      assert.equal(await stack.exists(`order-${orderId}`), false);
    });

    it('answers 405 with Allow for a method /workflows/{x} does not have', async () => {
      const response = await invoke(httpEvent({ method: 'PUT', path: '/workflows/processOrder', body: {} }));
      assert.equal(response.statusCode, 405);
      assert.equal(response.headers?.allow, 'POST, GET');
    });
  });

  describe('webhook signatures', () => {
    const github = (body: string, signature: string | undefined, delivery: string) =>
      httpEvent({
        path: '/webhooks/github',
        body,
        headers: {
          'x-github-delivery': delivery,
          'x-github-event': 'push',
          ...(signature !== undefined && { 'x-hub-signature-256': signature }),
        },
      });
    const sign = (secret: string, payload: string) =>
      createHmac('sha256', secret).update(payload).digest('hex');

    it('starts the workflow for a good GitHub signature', async () => {
      const delivery = uid();
      const body = JSON.stringify({ ref: 'refs/heads/main' });
      const response = await invoke(github(body, `sha256=${sign(GITHUB_SECRET, body)}`, delivery));
      assert.equal(response.statusCode, 202);
      assert.deepEqual((await stack.completed(`github-${delivery}`)).result, {
        processed: true,
        input: { ref: 'refs/heads/main' },
      });
    });

    it('answers 401 and starts nothing for a bad or a missing signature, without logging the secret', async () => {
      const body = JSON.stringify({ ref: 'refs/heads/main' });
      const bad = uid();
      const missing = uid();
      const { result, lines, records } = await captureLogs(async () => [
        await invoke(github(body, `sha256=${sign('not-the-secret', body)}`, bad)),
        await invoke(github(body, undefined, missing)),
      ]);
      assert.deepEqual(
        records.map((record) => [record.level, record.reason]),
        [
          ['WARN', 'SignatureError'],
          ['WARN', 'SignatureError'],
        ],
      );
      for (const response of result) {
        assert.equal(response.statusCode, 401);
        assert.equal(response.headers?.['content-type'], 'application/problem+json');
      }
      assert.equal(await stack.exists(`github-${bad}`), false);
      assert.equal(await stack.exists(`github-${missing}`), false);
      assert.ok(!lines.some((line) => line.includes(GITHUB_SECRET)));
    });

    it('reads a secret from Secrets Manager, and picks up a rotated one at its first use', async () => {
      const first = canarySecret('gh-managed');
      const second = canarySecret('gh-managed');
      const name = 'webhooks/github';
      await moto.secretsManager.send(
        new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ secret: first }) }),
      );
      const body = JSON.stringify({ ref: 'refs/heads/main' });
      const managed = (secret: string, delivery: string) => ({
        ...github(body, `sha256=${sign(secret, body)}`, delivery),
        rawPath: '/webhooks/github-managed',
      });
      const reads = () => moto.served('secretsmanager.GetSecretValue');

      const before = await reads();
      const one = uid();
      assert.equal((await invoke(managed(first, one))).statusCode, 202);
      assert.equal(await reads(), before + 1);

      await moto.secretsManager.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify({ secret: second }) }),
      );
      const two = uid();
      const { result, lines } = await captureLogs(() => invoke(managed(second, two)));
      assert.equal(result.statusCode, 202, 'the rotated secret is read at once, not after the cache expires');
      assert.equal(await reads(), before + 2);
      assert.ok(!lines.some((line) => line.includes(first) || line.includes(second)));

      // Forged requests do not each cost a Secrets Manager read.
      const forged = uid();
      assert.equal((await invoke(managed('forged', forged))).statusCode, 401);
      assert.equal((await invoke(managed('forged', uid()))).statusCode, 401);
      assert.equal(await reads(), before + 2);
      assert.equal(await stack.exists(`github-${forged}`), false);
      await stack.completed(`github-${one}`);
      await stack.completed(`github-${two}`);
    });

    it('checks a Stripe signature and its timestamp', async () => {
      const chargeId = uid();
      const body = JSON.stringify({ id: chargeId, data: { object: { card: 'visa' } } });
      const stripe = (timestamp: number, secret = STRIPE_SECRET) =>
        httpEvent({
          path: '/webhooks/stripe',
          body,
          headers: { 'stripe-signature': `t=${timestamp},v1=${sign(secret, `${timestamp}.${body}`)}` },
        });
      const now = Math.floor(Date.now() / 1000);
      assert.equal((await invoke(stripe(now - 600))).statusCode, 401);
      assert.equal((await invoke(stripe(now, 'whsec_other'))).statusCode, 401);
      assert.equal(await stack.exists(`stripe-${chargeId}`), false);
      assert.equal((await invoke(stripe(now))).statusCode, 202);
      assert.deepEqual((await stack.completed(`stripe-${chargeId}`)).result, { charged: true });
    });
  });

  describe('headers', () => {
    it('answers a CORS preflight from an allowed origin without starting anything', async () => {
      const response = await invoke(
        httpEvent({
          method: 'OPTIONS',
          path: '/workflows/processOrder',
          headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
        }),
      );
      assert.equal(response.statusCode, 204);
      assert.equal(response.headers?.['Access-Control-Allow-Origin'], ORIGIN);
      assert.match(String(response.headers?.['Access-Control-Allow-Methods']), /POST/);
    });

    it('adds CORS headers for allowed origins only, and security headers to every response, errors included', async () => {
      const allowed = await invoke(canonical('processOrder', {}, { origin: ORIGIN }));
      assert.equal(allowed.headers?.['Access-Control-Allow-Origin'], ORIGIN);
      assert.equal(allowed.headers?.['X-Content-Type-Options'], 'nosniff');
      assert.match(String(allowed.headers?.['Strict-Transport-Security']), /max-age=/);

      const other = await invoke(canonical('processOrder', {}, { origin: 'https://evil.example' }));
      assert.equal(other.headers?.['Access-Control-Allow-Origin'], undefined);

      const problem = await invoke(httpEvent({ path: '/nowhere', body: {}, headers: { origin: ORIGIN } }));
      assert.equal(problem.statusCode, 404);
      assert.equal(problem.headers?.['Access-Control-Allow-Origin'], ORIGIN);
      assert.equal(problem.headers?.['X-Content-Type-Options'], 'nosniff');
    });
  });
});
