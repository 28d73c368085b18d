import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { unzipSync } from 'fflate';
import { fixture, uid } from '../helpers/events.ts';
import { startGrpcProxy } from '../helpers/grpcProxy.ts';
import { startMoto } from '../helpers/moto.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const run = promisify(execFile);
const FUNCTIONS = ['http', 'sqs', 'eventbridge'] as const;

/**
 * Imports a built bundle in a fresh Node process, from a folder with no node_modules anywhere
 * above it, and invokes its handler with one event. `npm test` builds the bundles first.
 */
const invokeBundle = async (
  name: string,
  event: unknown,
  env: Record<string, string> = {},
  from: 'folder' | 'zip' = 'folder',
): Promise<unknown> => {
  const dir = await mkdtemp(join(tmpdir(), `bundle-${name}-`));
  try {
    if (from === 'zip') {
      // What Lambda unpacks: the deployment package alone.
      const files = unzipSync(await readFile(new URL(`../../dist/${name}.zip`, import.meta.url)));
      for (const [path, bytes] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), bytes);
      }
    } else {
      // The whole folder: chunks that index.mjs imports lazily live beside it.
      await cp(new URL(`../../dist/${name}`, import.meta.url), dir, { recursive: true });
    }
    const script = `
      const { handler } = await import('./index.mjs');
      if (typeof handler !== 'function') throw new Error('no handler export');
      const context = { awsRequestId: 'bundle-test', functionName: '${name}', getRemainingTimeInMillis: () => 10000 };
      const result = await handler(JSON.parse(process.env.EVENT), context);
      process.stdout.write('\\nRESULT ' + JSON.stringify(result ?? null) + '\\n');
      process.exit(0);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
        EVENT: JSON.stringify(event),
        ...env,
      },
      timeout: 30_000,
    });
    const line = stdout.split('\n').find((entry) => entry.startsWith('RESULT '));
    assert.ok(line, `no result from the ${name} bundle:\n${stdout}`);
    return JSON.parse(line.slice('RESULT '.length));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

describe('built bundles', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  it('start workflows from a folder without node_modules, one per function', async () => {
    const ids = { http: uid(), sqs: uid(), eventbridge: uid() };
    const http = fixture<Record<string, unknown>>('http/v2-post-order.json');
    http.body = JSON.stringify({ orderId: ids.http });
    const sqs = fixture<{ Records: Record<string, unknown>[] }>('sqs/orders-batch.json');
    sqs.Records = sqs.Records.slice(0, 1).map((record) => ({
      ...record,
      body: JSON.stringify({ orderId: ids.sqs }),
    }));
    const eventbridge = fixture<Record<string, unknown>>('eventbridge/order-placed.json');
    eventbridge.detail = { orderId: ids.eventbridge };

    const results = await Promise.all([
      invokeBundle('http', http),
      invokeBundle('sqs', sqs),
      invokeBundle('eventbridge', eventbridge),
    ]);

    assert.equal((results[0] as { statusCode: number }).statusCode, 202);
    assert.deepEqual(results[1], { batchItemFailures: [] });
    assert.equal((results[2] as { started: boolean }).started, true);
    for (const name of FUNCTIONS) {
      const { description } = await stack.completed(`order-${ids[name]}`);
      assert.equal(description.type, 'processOrder');
    }
  });

  it('keep error names through minification, for problem types and logs', async () => {
    const http = fixture<Record<string, unknown>>('http/v2-post-order.json');
    http.rawPath = '/nowhere';
    const response = (await invokeBundle('http', http)) as { statusCode: number; body: string };
    assert.equal(response.statusCode, 404);
    assert.equal(JSON.parse(response.body).type, 'urn:temporal-triggers:problem:no-route');
  });

  it('reads the credentials secret through the lazily loaded AWS SDK chunk, from the deployment zip', async () => {
    const moto = await startMoto();
    const proxy = await startGrpcProxy({ target: stack.address });
    try {
      const key = `key-${uid()}`;
      proxy.requireApiKey(key);
      await moto.secretsManager.send(
        new CreateSecretCommand({
          Name: 'temporal/bundle',
          SecretString: JSON.stringify({ apiKey: key, address: proxy.address, namespace: 'default' }),
        }),
      );
      const orderId = uid();
      const event = fixture<Record<string, unknown>>('http/v2-post-order.json');
      event.body = JSON.stringify({ orderId });
      const result = await invokeBundle(
        'http',
        event,
        {
          ...moto.env,
          TEMPORAL_SECRET_ID: 'temporal/bundle',
          // Nothing listens here: only the secret's address can work.
          TEMPORAL_ADDRESS: '127.0.0.1:9',
          // The proxy speaks plaintext HTTP/2; without this an API key turns TLS on.
          TEMPORAL_TLS: 'false',
        },
        'zip',
      );
      assert.equal((result as { statusCode: number }).statusCode, 202);
      assert.equal((await stack.completed(`order-${orderId}`)).description.type, 'processOrder');
      assert.equal(await moto.served('secretsmanager.GetSecretValue'), 1);
    } finally {
      await proxy.close();
      await moto.stop();
    }
  });
});
