import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { fixture, uid } from '../helpers/events.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const run = promisify(execFile);
const FUNCTIONS = ['http', 'sqs', 'eventbridge'] as const;

/**
 * Imports a built bundle in a fresh Node process, from a folder with no node_modules anywhere
 * above it, and invokes its handler with one event. `npm test` builds the bundles first.
 */
const invokeBundle = async (name: string, event: unknown): Promise<unknown> => {
  const dir = await mkdtemp(join(tmpdir(), `bundle-${name}-`));
  try {
    // The whole folder: chunks that index.mjs imports lazily live beside it.
    await cp(new URL(`../../dist/${name}`, import.meta.url), dir, { recursive: true });
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
});
