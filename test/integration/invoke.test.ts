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
