import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

describe('npm run invoke', () => {
  it('prints only the handler result on stdout, and does not rebuild bundles newer than their sources', () => {
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const { stdout, stderr, status } = spawnSync(
      'npm',
      ['run', '-s', 'invoke', '--', 'eventbridge', 'test/events/eventbridge/order-placed.json'],
      { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 },
    );

    assert.equal(status, 0, stderr);
    const result = JSON.parse(stdout) as { workflowId?: string; action?: string };
    assert.equal(result.action, 'start');
    assert.match(result.workflowId ?? '', /^order-/);
    assert.match(stderr, /the bundles in dist\/ are up to date/);
    assert.doesNotMatch(stderr, /at cold start \(budget/, 'no build ran');
  });

  it('sends an SNS message and an S3 notification to the function that takes them, with a ROUTES_FILE', () => {
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const run = (source: string, file: string) =>
      spawnSync('npm', ['run', '-s', 'invoke', '--', source, file], {
        cwd: ROOT,
        env: { ...env, ROUTES_FILE: join(ROOT, 'test', 'routes', 'contract.json') },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const sns = run('sns', 'test/events/sns/order-message.json');
    assert.equal(sns.status, 0, sns.stderr);
    assert.match(sns.stderr, /dist\/eventbridge\/index\.mjs/);
    assert.equal((JSON.parse(sns.stdout) as { workflowId: string }[])[0]?.workflowId, 'order-3001');
    const s3 = run('s3', 'test/events/s3/object-created.json');
    assert.equal(s3.status, 0, s3.stderr);
    assert.equal(
      (JSON.parse(s3.stdout) as { workflowId: string }[])[0]?.workflowId,
      'processOrder-invoices-incoming/March 2026/invoice #1.pdf-0055AED6DCD90281E5',
    );
  });

  it('takes Kinesis and DynamoDB Streams event files, routed by the routes file ROUTES_FILE names', () => {
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    for (const file of [
      'test/events/kinesis/orders-batch.json',
      'test/events/dynamodb/orders-changes.json',
    ]) {
      const { stdout, stderr, status } = spawnSync('npm', ['run', '-s', 'invoke', '--', 'streams', file], {
        cwd: ROOT,
        env: { ...env, ROUTES_FILE: 'test/routes/contract.json' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(status, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), { batchItemFailures: [] }, file);
    }
  });
});
