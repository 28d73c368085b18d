import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Bundle, bundle, FUNCTIONS } from '../../infra/build.ts';
import type { ProtoSummary } from '../../infra/plugins.ts';
import { uid } from '../helpers/events.ts';
import type { probe } from '../helpers/protoProbe.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const run = promisify(execFile);
const WS = 'temporal.api.workflowservice.v1.WorkflowService';

/**
 * The trimmed descriptor against a real server: test/helpers/protoProbe.ts, bundled exactly like the
 * functions, runs from a folder without node_modules and makes each RPC the handlers and the status
 * and result features rely on. `npm test` builds dist/ first, whose descriptors it must match.
 */
describe('trimmed protobuf descriptor', () => {
  let stack: Stack;
  let dir: string;
  let probeBundle: Bundle;
  before(async () => {
    stack = await startStack(['orders']);
    dir = await mkdtemp(join(tmpdir(), 'proto-probe-'));
    probeBundle = await bundle('probe', 'test/helpers/protoProbe.ts', dir);
  });
  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every RPC a function keeps, and those the handlers and status features call', async () => {
    const rpcs = probeBundle.proto?.rpcs ?? [];
    for (const name of FUNCTIONS) {
      const shipped = JSON.parse(await readFile(`dist/${name}/proto.json`, 'utf8')) as ProtoSummary;
      const missing = shipped.rpcs.filter((rpc) => !rpcs.includes(rpc));
      assert.deepEqual(missing, [], `the probe does not test what dist/${name} keeps`);
      // The descriptor follows from the RPCs kept: the same RPCs, the same descriptor.
      if (shipped.rpcs.length === rpcs.length) assert.equal(shipped.sha256, probeBundle.proto?.sha256);
    }
    for (const method of [
      'GetSystemInfo',
      'StartWorkflowExecution',
      'DescribeWorkflowExecution',
      'GetWorkflowExecutionHistory',
      'TerminateWorkflowExecution',
      'SignalWithStartWorkflowExecution',
      'SignalWorkflowExecution',
      'ExecuteMultiOperation',
      'UpdateWorkflowExecution',
      'PollWorkflowExecutionUpdate',
    ]) {
      assert.ok(rpcs.includes(`${WS}.${method}`), `${method} was dropped`);
    }
    assert.ok(rpcs.includes('grpc.health.v1.Health.Check'));
    assert.ok(!rpcs.includes(`${WS}.PollWorkflowTaskQueue`), 'a worker RPC was kept');
  });

  it('starts, signals, updates, describes, reads results and histories, and decodes errors and failures', async () => {
    const id = uid();
    const script = `
      const { probe } = await import('./index.mjs');
      const result = await probe(process.env.TEMPORAL_ADDRESS, ${JSON.stringify(id)}, 'orders');
      process.stdout.write('\\nRESULT ' + JSON.stringify(result) + '\\n');
      process.exit(0);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: stack.address, POWERTOOLS_LOG_LEVEL: 'WARN' },
      timeout: 30_000,
    });
    const line = stdout.split('\n').find((entry) => entry.startsWith('RESULT '));
    assert.ok(line, `no result from the probe:\n${stdout}`);
    const seen = JSON.parse(line.slice('RESULT '.length)) as Awaited<ReturnType<typeof probe>>;

    assert.equal(seen.health, 1); // SERVING
    assert.equal(seen.first.started, true);
    assert.deepEqual(seen.result, { processed: true, input: { orderId: id, items: ['book'] } });
    assert.deepEqual(seen.closedDuplicate, { started: false, runId: seen.first.runId });
    assert.deepEqual(seen.described, { type: 'processOrder', status: 'COMPLETED', runId: seen.first.runId });
    assert.ok(seen.historyEvents >= 5, `${seen.historyEvents} history events`);
    assert.equal(seen.alreadyStarted, true);
    assert.equal(seen.terminated, 'probe');
    assert.deepEqual(seen.actions, {
      signalWithStart: true,
      updateWithStart: 3,
      rejected: 'UpdateRejectedError',
      checkout: 'COMPLETED',
    });
  });
});
