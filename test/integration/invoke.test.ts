import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Stack, startStack } from '../helpers/stack.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url);

/** `npm run invoke -- <fn> <file>` without npm: the script on the built bundle, against TEMPORAL_ADDRESS. */
const invoke = (name: string, file: string) =>
  run(process.execPath, ['scripts/invoke.ts', name, file], {
    cwd: root,
    // An INIT_CWD with no stack file, so only TEMPORAL_ADDRESS can point the script at a server.
    env: { ...process.env, INIT_CWD: root.pathname },
    timeout: 30_000,
  });

describe('npm run invoke', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  it('sends a fixture through the built handler and prints its result', async () => {
    const { stdout } = await invoke('eventbridge', 'test/events/eventbridge/order-placed.json');
    const result = JSON.parse(stdout);
    assert.equal(result.workflowId, 'order-3001');
    assert.equal(result.workflowType, 'processOrder');
    const { description } = await stack.completed('order-3001');
    assert.equal(description.taskQueue, 'orders');
  });

  it('exits non-zero and prints the batch item failures when a record fails', async () => {
    await assert.rejects(
      invoke('sqs', 'test/events/sqs/orders-batch.json'),
      (error: { code: number; stdout: string }) => {
        assert.equal(error.code, 1);
        assert.deepEqual(JSON.parse(error.stdout), {
          batchItemFailures: [{ itemIdentifier: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d' }],
        });
        return true;
      },
    );
  });

  it('refuses a missing event file with a clear message', async () => {
    const missing = join(await mkdtemp(join(tmpdir(), 'invoke-')), 'nope.json');
    await assert.rejects(invoke('http', missing), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /cannot read the event from .*nope\.json/);
      return true;
    });
  });
});
