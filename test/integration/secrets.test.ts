import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { WebhookSecretError } from '#lib/errors.ts';
import { verifySignature } from '#lib/http/signature.ts';
import { readSecret, resetSecrets, SecretReadError } from '#lib/secrets.ts';
import { canarySecret } from '../helpers/canary.ts';
import { type Moto, startMoto } from '../helpers/moto.ts';

const GET_SECRET = 'secretsmanager.GetSecretValue';

/** A server that accepts connections and never answers: a stale socket, or an endpoint that hangs. */
const startBlackHole = async (): Promise<{ endpoint: string; close(): Promise<void> }> => {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};

describe('the one secret cache, for Temporal credentials and webhook secrets, against moto', () => {
  let moto: Moto;
  let hole: Awaited<ReturnType<typeof startBlackHole>>;
  const value = canarySecret('whsec');

  before(async () => {
    moto = await startMoto();
    hole = await startBlackHole();
    await moto.secretsManager.send(new CreateSecretCommand({ Name: 'webhooks/shop', SecretString: value }));
  });
  beforeEach(async () => {
    await resetSecrets();
    Object.assign(process.env, moto.env);
  });
  after(async () => {
    await resetSecrets();
    await hole?.close();
    await moto?.stop();
  });

  it('makes one request for concurrent reads, reuses the value while it is fresh enough, and reads again when asked for a fresh one', async () => {
    const before = await moto.served(GET_SECRET);
    const options = { deadline: Date.now() + 5_000, maxAgeSeconds: 60 };

    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => readSecret('webhooks/shop', options)),
    );
    const later = await readSecret('webhooks/shop', options);
    const afterCached = await moto.served(GET_SECRET);
    const fresh = await readSecret('webhooks/shop', { ...options, fresh: true });

    assert.deepEqual(new Set([...concurrent, later, fresh]), new Set([value]));
    assert.equal(afterCached - before, 1, 'one GetSecretValue for six reads');
    assert.equal((await moto.served(GET_SECRET)) - afterCached, 1, 'a fresh read asks again');
  });

  it('gives up on a Secrets Manager that never answers at the deadline, well before the SDK would', async () => {
    process.env.AWS_ENDPOINT_URL = hole.endpoint;
    const started = Date.now();

    await assert.rejects(
      readSecret('webhooks/shop', { deadline: started + 200, maxAgeSeconds: 60 }),
      (error: unknown) =>
        error instanceof SecretReadError && /Timed out reading the secret webhooks\/shop/.test(error.message),
    );
    assert.ok(Date.now() - started < 1_500, `gave up after ${Date.now() - started} ms`);
  });

  it('bounds a webhook secret read by the request deadline, and names the secret without its value', async () => {
    process.env.AWS_ENDPOINT_URL = hole.endpoint;
    const signature = { scheme: 'github', secret: { secretId: 'webhooks/shop' } } as const;
    const request = {
      headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      rawBody: Buffer.from('{}'),
    };

    await assert.rejects(
      verifySignature(signature, 'shop-webhook', request, Date.now() + 200),
      (error: unknown) =>
        error instanceof WebhookSecretError &&
        /Route "shop-webhook": cannot read the webhook secret webhooks\/shop/.test(error.message) &&
        !error.message.includes(value.slice(0, 8)),
    );
  });
});
