import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { resetConfig } from '#lib/config.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { canarySecret } from '../helpers/canary.ts';
import { makeCertificates, type TestCertificates } from '../helpers/certs.ts';
import { eventBridgeEvent, httpEvent, uid } from '../helpers/events.ts';
import { type GrpcProxy, startGrpcProxy } from '../helpers/grpcProxy.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Moto, startMoto } from '../helpers/moto.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const GET_SECRET = 'secretsmanager.GetSecretValue';
const SERVER_NAME = 'temporal.test';

// The tests share one execution environment (the handlers' module scope) and run in order. A "cold
// start" closes the cached connection and forgets the cached secret, as a new environment would.
describe('Temporal credentials from Secrets Manager, against moto and an authenticating proxy', () => {
  let stack: Stack;
  let moto: Moto;
  let certs: TestCertificates;
  let keyProxy: GrpcProxy;
  let tlsProxy: GrpcProxy;
  let http: Handler;
  let eventbridge: Handler;
  let closeTemporal: () => Promise<void>;
  // Everything the run logged, answered or threw, and every secret value it used: the last test
  // checks that no value ever shows.
  const seen: string[] = [];
  const secretValues: string[] = [];

  const invoke = async (handler: Handler, event: unknown, timeoutMs = 10_000) => {
    const { result, lines } = await captureLogs(() =>
      handler(event, lambdaContext({ timeoutMs })).then(
        (value) => ({ value, error: undefined }),
        (error: unknown) => ({ value: undefined, error }),
      ),
    );
    seen.push(...lines, JSON.stringify(result.value ?? null), inspect(result.error, { depth: 10 }));
    return result;
  };
  const order = async (timeoutMs?: number) => {
    const orderId = uid();
    const { value } = await invoke(http, httpEvent({ path: '/orders/acme', body: { orderId } }), timeoutMs);
    return { response: value as APIGatewayProxyStructuredResultV2, workflowId: `order-${orderId}` };
  };

  const apiKey = () => {
    const key = canarySecret('tk');
    secretValues.push(key);
    return key;
  };
  const putSecret = async (name: string, value: Record<string, string>, create = false) => {
    const SecretString = JSON.stringify(value);
    if (create) await moto.secretsManager.send(new CreateSecretCommand({ Name: name, SecretString }));
    else await moto.secretsManager.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
  };
  const mtls = (client: { cert: string; key: string }, address: string) => ({
    tlsCert: client.cert,
    tlsKey: client.key,
    tlsCa: certs.ca.cert,
    serverName: SERVER_NAME,
    address,
  });
  const coldStart = async (secretId: string) => {
    await closeTemporal();
    process.env.TEMPORAL_SECRET_ID = secretId;
    resetConfig();
  };
  const reads = () => moto.served(GET_SECRET);
  const exists = async (workflowId: string) => {
    const description = await stack.client.workflow.getHandle(workflowId).describe();
    return description.type;
  };

  before(async () => {
    stack = await startStack();
    moto = await startMoto();
    certs = makeCertificates(SERVER_NAME);
    for (const pem of [certs.clientA, certs.clientB, certs.rogue]) secretValues.push(pem.key);
    keyProxy = await startGrpcProxy({ target: stack.address });
    tlsProxy = await startGrpcProxy({
      target: stack.address,
      tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert },
    });
    Object.assign(process.env, moto.env);
    // Nothing listens here: only the secret's address can work.
    process.env.TEMPORAL_ADDRESS = '127.0.0.1:9';
    // The proxy speaks plaintext HTTP/2; without this an API key turns TLS on.
    process.env.TEMPORAL_TLS = 'false';
    // Every line the handlers can log, so the secrecy check below sees them all. The logger reads
    // this once, when the handlers are first imported.
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    resetConfig();
    ({ closeTemporal } = await import('#lib/temporal/client.ts'));
    http = (await import('../../functions/http.ts')).handler as Handler;
    eventbridge = (await import('../../functions/eventbridge.ts')).handler as Handler;
  });
  after(async () => {
    await closeTemporal();
    await tlsProxy?.close();
    await keyProxy?.close();
    await moto?.stop();
    await stack?.stop();
  });

  it('connects with the API key, address and namespace from the secret, and reads it once while cached', async () => {
    const key = apiKey();
    keyProxy.requireApiKey(key);
    await putSecret('temporal/api', { apiKey: key, address: keyProxy.address, namespace: 'default' }, true);
    await coldStart('temporal/api');
    const readsBefore = await reads();

    const first = await order();
    const second = await order();

    assert.equal(first.response.statusCode, 202);
    assert.equal(second.response.statusCode, 202);
    assert.equal(await exists(first.workflowId), 'processOrder');
    assert.equal((await reads()) - readsBefore, 1, 'one GetSecretValue for two invocations');
    assert.ok(!keyProxy.calls.some((call) => call.outcome === 'unauthenticated'));
  });

  it('rotates the key and revokes the old one: the next invocation succeeds after one refresh, on the same connection', async () => {
    const key = apiKey();
    await putSecret('temporal/api', { apiKey: key, address: keyProxy.address, namespace: 'default' });
    keyProxy.requireApiKey(key);
    const readsBefore = await reads();
    const refusedBefore = keyProxy.calls.filter((call) => call.outcome === 'unauthenticated').length;
    const connectionsBefore = keyProxy.tcp.forwarded;

    const { response, workflowId } = await order();

    assert.equal(response.statusCode, 202);
    assert.equal(await exists(workflowId), 'processOrder');
    assert.equal((await reads()) - readsBefore, 1, 'the secret was read again once, bypassing the cache');
    const refused = keyProxy.calls.filter((call) => call.outcome === 'unauthenticated').length;
    assert.equal(refused - refusedBefore, 1, 'one call was refused, then retried with the new key');
    assert.equal(keyProxy.tcp.forwarded, connectionsBefore, 'no new connection for a new key');
  });

  it('refreshes only once when the secret holds no newer key, and fails without retrying further', async () => {
    keyProxy.requireApiKey(apiKey());
    const readsBefore = await reads();

    const { response, workflowId } = await order();
    const thrown = await invoke(eventbridge, eventBridgeEvent({ orderId: uid() }));

    assert.equal(response.statusCode, 503, 'as when the server refuses the connect at cold start');
    assert.equal(thrown.error instanceof Error && thrown.error.name, 'TemporalUnavailableError');
    assert.equal((await reads()) - readsBefore, 2, 'one forced read per invocation');
    await assert.rejects(exists(workflowId), /not found/i);
  });

  it('answers 503 at once when the secret cannot be read at cold start (deleted)', async () => {
    await moto.secretsManager.send(
      new DeleteSecretCommand({ SecretId: 'temporal/api', ForceDeleteWithoutRecovery: true }),
    );
    await coldStart('temporal/api');
    const started = Date.now();

    const { response } = await order();

    assert.equal(response.statusCode, 503);
    assert.ok(Date.now() - started < 3_000, `answered in ${Date.now() - started} ms`);
  });

  it('connects with mTLS: a client certificate the server trusts', async () => {
    await putSecret('temporal/mtls', mtls(certs.clientA, tlsProxy.address), true);
    await coldStart('temporal/mtls');

    const { response, workflowId } = await order();

    assert.equal(response.statusCode, 202);
    assert.equal(await exists(workflowId), 'processOrder');
    assert.deepEqual(tlsProxy.clientCertificates, ['client-a']);
  });

  it('answers 503 fast for a certificate the server rejects, having read the secret once more', async () => {
    await putSecret('temporal/mtls', mtls(certs.rogue, tlsProxy.address));
    await coldStart('temporal/mtls');
    const readsBefore = await reads();
    const rejectedBefore = tlsProxy.rejectedHandshakes;
    const started = Date.now();

    const { response, workflowId } = await order();

    const elapsed = Date.now() - started;
    assert.equal(response.statusCode, 503);
    assert.ok(elapsed < 2_000, `answered in ${elapsed} ms, not at the deadline`);
    assert.ok(tlsProxy.rejectedHandshakes > rejectedBefore);
    assert.equal((await reads()) - readsBefore, 2, 'the cached read, then one bypassing the cache');
    await assert.rejects(exists(workflowId), /not found/i);
  });

  it('picks up a rotated certificate within the invocation whose handshake the old one failed', async () => {
    await putSecret('temporal/mtls', mtls(certs.clientB, tlsProxy.address));
    const readsBefore = await reads();

    const { response, workflowId } = await order();

    assert.equal(response.statusCode, 202);
    assert.equal(await exists(workflowId), 'processOrder');
    assert.equal(tlsProxy.clientCertificates.at(-1), 'client-b');
    assert.equal((await reads()) - readsBefore, 1);
  });

  it('moves to new certificates when the cached secret expires, on a new connection, closing the old one', async () => {
    process.env.TEMPORAL_SECRET_TTL_SECONDS = '1';
    await coldStart('temporal/mtls');
    assert.equal((await order()).response.statusCode, 202);
    await putSecret('temporal/mtls', mtls(certs.clientA, tlsProxy.address));
    const sessions = tlsProxy.clientCertificates.length;
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const { response } = await order();

    assert.equal(response.statusCode, 202);
    assert.deepEqual(tlsProxy.clientCertificates.slice(sessions), ['client-a']);
    assert.equal(tlsProxy.tcp.open, 1, 'the connection with the old certificate was closed');
  });

  it('keeps the last credentials read when the expired secret cannot be read again, and asks less often', async () => {
    await moto.secretsManager.send(
      new DeleteSecretCommand({ SecretId: 'temporal/mtls', ForceDeleteWithoutRecovery: true }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const readsBefore = await reads();
    const logged = seen.length;

    const { response } = await order();
    const { response: next } = await order();

    assert.equal(response.statusCode, 202);
    assert.equal(next.statusCode, 202);
    assert.equal((await reads()) - readsBefore, 1, 'one try, then a pause before the next one');
    assert.equal(tlsProxy.tcp.open, 1, 'on the same connection');
    const warnings = seen
      .slice(logged)
      .filter((line) => line.includes('Cannot refresh the Temporal credentials'));
    assert.equal(warnings.length, 1);
    delete process.env.TEMPORAL_SECRET_TTL_SECONDS;
    resetConfig();
  });

  it('never logs, throws or answers a secret value', () => {
    assert.ok(seen.length > 20, 'the run logged and answered something');
    for (const value of secretValues) {
      // A PEM key is checked by its base64 body, which is what a careless log would show.
      const needle = value.includes('PRIVATE KEY') ? (value.split('\n')[1] ?? value) : value;
      const leaks = seen.filter((line) => line.includes(needle)).length;
      assert.equal(leaks, 0, `a secret value appeared in ${leaks} line(s) of output`);
    }
  });
});
