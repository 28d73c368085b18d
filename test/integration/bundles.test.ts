import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { unzipSync } from 'fflate';
import { coldStartOutputs } from '../../infra/build.ts';
import { openapiText } from '../../scripts/openapi.ts';
import { canarySecret, recordCaptured } from '../helpers/canary.ts';
import {
  dynamodbEvent,
  dynamodbRecord,
  fixture,
  kinesisEvent,
  kinesisRecord,
  uid,
} from '../helpers/events.ts';
import { startGrpcProxy } from '../helpers/grpcProxy.ts';
import { startMoto } from '../helpers/moto.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const run = promisify(execFile);
const FUNCTIONS = ['http', 'sqs', 'eventbridge'] as const;
const CONTRACT_ROUTES = fileURLToPath(new URL('../routes/contract.json', import.meta.url));

/**
 * Imports a built bundle in a fresh Node process, from a folder with no node_modules anywhere
 * above it, and invokes its handler with one event. `npm test` builds the bundles first.
 */
const runBundle = async (
  name: string,
  event: unknown,
  env: Record<string, string> = {},
  from: 'folder' | 'zip' = 'folder',
): Promise<{ result: unknown; output: string[] }> => {
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
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
        EVENT: JSON.stringify(event),
        ...env,
      },
      timeout: 30_000,
    });
    const output = `${stdout}\n${stderr}`.split('\n').filter(Boolean);
    recordCaptured(output);
    const line = stdout.split('\n').find((entry) => entry.startsWith('RESULT '));
    assert.ok(line, `no result from the ${name} bundle:\n${stdout}`);
    return { result: JSON.parse(line.slice('RESULT '.length)), output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

const invokeBundle = async (...args: Parameters<typeof runBundle>): Promise<unknown> =>
  (await runBundle(...args)).result;

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

  it('start workflows from Kinesis and DynamoDB stream records with the streams bundle, from its zip', async () => {
    const [kinesisId, tableId] = [uid(), uid()];
    const kinesis = kinesisEvent(kinesisRecord({ orderId: kinesisId }));
    const dynamodb = dynamodbEvent(
      dynamodbRecord('INSERT', {
        keys: { orderId: { S: tableId } },
        newImage: { orderId: { S: tableId }, total: { N: '12.5' } },
      }),
    );
    const env = { ROUTES_FILE: CONTRACT_ROUTES };
    const results = await Promise.all([
      invokeBundle('streams', kinesis, env, 'zip'),
      invokeBundle('streams', dynamodb, env, 'zip'),
    ]);
    assert.deepEqual(results, [{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    assert.deepEqual((await stack.completed(`order-${kinesisId}`)).result, {
      processed: true,
      input: { orderId: kinesisId },
    });
    assert.deepEqual((await stack.completed(`order-created-${tableId}`)).result, {
      processed: true,
      input: { orderId: tableId, total: 12.5 },
    });
  });

  it('keep error names through minification, for problem types and logs', async () => {
    const http = fixture<Record<string, unknown>>('http/v2-post-order.json');
    http.rawPath = '/nowhere';
    const response = (await invokeBundle('http', http)) as { statusCode: number; body: string };
    assert.equal(response.statusCode, 404);
    assert.equal(JSON.parse(response.body).type, 'urn:temporal-triggers:problem:no-route');
  });

  it('serve the OpenAPI document of the routes file in force from a chunk loaded on the first request', async () => {
    const event = fixture<APIGatewayProxyEventV2>('http/v2-post-order.json');
    event.rawPath = '/openapi.json';
    event.requestContext.http.method = 'GET';
    delete event.body;

    const response = (await invokeBundle(
      'http',
      event,
      { HTTP_OPENAPI: 'true', ROUTES_FILE: CONTRACT_ROUTES },
      'zip',
    )) as { statusCode: number; body: string };

    assert.equal(response.statusCode, 200);
    assert.deepEqual(JSON.parse(response.body), JSON.parse(await openapiText(CONTRACT_ROUTES, true)));
    const meta = JSON.parse(await readFile(new URL('../../dist/http/meta.json', import.meta.url), 'utf8'));
    const coldStart = coldStartOutputs(meta, 'dist/http/index.mjs').flatMap((output) =>
      Object.keys(meta.outputs[output].inputs),
    );
    assert.ok(!coldStart.includes('lib/http/openapi.ts'), 'not at cold start');
    assert.ok(Object.keys(meta.inputs).includes('lib/http/openapi.ts'), 'in the bundle');
  });

  it('reads the credentials secret through the lazily loaded AWS SDK chunk, from the deployment zip', async () => {
    const moto = await startMoto();
    const proxy = await startGrpcProxy({ target: stack.address });
    try {
      const key = canarySecret('temporal-key');
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

  it('logs events with credential-bearing headers redacted when POWERTOOLS_LOGGER_LOG_EVENT is on', async () => {
    const token = canarySecret('bearer');
    const signature = canarySecret('signature');
    const event = fixture<APIGatewayProxyEventV2>('http/v2-post-order.json');
    event.body = JSON.stringify({ orderId: uid() });
    event.headers = {
      ...event.headers,
      authorization: `Bearer ${token}`,
      'X-Api-Key': token,
      'x-hub-signature-256': `sha256=${signature}`,
    };
    event.cookies = [`session=${token}`];

    // The contract routes have a GitHub webhook route: its signature header is redacted everywhere.
    const { result, output } = await runBundle('http', event, {
      POWERTOOLS_LOGGER_LOG_EVENT: 'true',
      ROUTES_FILE: CONTRACT_ROUTES,
    });

    assert.equal((result as { statusCode: number }).statusCode, 202);
    const logged = output
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { message?: string; event?: APIGatewayProxyEventV2 })
      .find((record) => record.message === 'Lambda invocation event')?.event;
    assert.ok(logged, 'the event was logged');
    assert.equal(logged.headers.authorization, '[redacted]');
    assert.equal(logged.headers['X-Api-Key'], '[redacted]');
    assert.equal(logged.headers['x-hub-signature-256'], '[redacted]');
    assert.deepEqual(logged.cookies, ['[redacted]']);
    assert.equal(logged.headers['content-type'], 'application/json', 'other headers stay');
    assert.ok(!output.some((line) => line.includes(token) || line.includes(signature)));
  });

  it('never logs a webhook secret that is a plain string where the route expects a JSON field', async () => {
    const moto = await startMoto();
    try {
      const secret = canarySecret('plain-webhook');
      await moto.secretsManager.send(
        new CreateSecretCommand({ Name: 'webhooks/github', SecretString: secret }),
      );
      const event = fixture<APIGatewayProxyEventV2>('http/v2-post-order.json');
      event.rawPath = '/webhooks/github-managed';
      event.body = JSON.stringify({ ref: 'main' });
      event.headers = { ...event.headers, 'x-github-delivery': uid() };

      const { result, output } = await runBundle('http', event, {
        ...moto.env,
        ROUTES_FILE: CONTRACT_ROUTES,
      });

      const response = result as { statusCode: number; body: string };
      assert.equal(response.statusCode, 500);
      assert.equal(JSON.parse(response.body).detail, undefined, 'a 500 carries no detail');
      const logged = output.find((line) => line.includes('WebhookSecretError') && !line.includes('"_aws"'));
      assert.match(
        logged ?? '',
        /Route \\"github-push-managed-secret\\": no webhook secret in secret webhooks\/github \(field \\"secret\\"\), or the secret is not a JSON object with it/,
      );
      const random = secret.slice(secret.lastIndexOf('-') + 1);
      for (let at = 0; at + 8 <= random.length; at += 1) {
        const slice = random.slice(at, at + 8);
        assert.ok(!output.some((line) => line.includes(slice)), `"${slice}" of the secret was logged`);
        assert.ok(!response.body.includes(slice));
      }
    } finally {
      await moto.stop();
    }
  });
});
