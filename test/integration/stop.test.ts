import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../scripts/temporalServer.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every process's parent, from /proc. */
const parents = (): Map<number, number> => {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields after its last ")" are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(entry), ppid);
    } catch {
      // Gone while we looked.
    }
  }
  return map;
};

const descendants = (root: number): number[] => {
  const map = parents();
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const [child, parent] of map) {
      if (parent === pid) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(root);
  return found;
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return condition();
};

/** `npm start` as a user runs it, on the bundles the suite built, with a dev server of its own. */
const npmStart = async (port: number): Promise<{ npm: ChildProcess; output: () => string }> => {
  const { TEMPORAL_ADDRESS: _, NODE_TEST_CONTEXT: __, ...env } = process.env;
  const npm = spawn('npm', ['start', '--', '--no-build'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  npm.stdout?.on('data', (chunk: Buffer) => {
    text += chunk;
  });
  npm.stderr?.on('data', (chunk: Buffer) => {
    text += chunk;
  });
  const ready = await until(() => text.includes('Ctrl-C stops everything.') || npm.exitCode !== null, 90_000);
  assert.ok(ready && npm.exitCode === null, `npm start did not come up:\n${text}`);
  return { npm, output: () => text };
};

describe('npm start stops cleanly', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal} sent to npm's PID: every process it started ends, and every port is released`, async (t) => {
      const port = await freePort();
      const { npm, output } = await npmStart(port);
      const group = npm.pid as number;
      try {
        const started = descendants(group);
        const temporal = Number(/Temporal\s+127\.0\.0\.1:(\d+)/.exec(output())?.[1]);
        const sqs = Number(/SQS\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output())?.[1]);
        const bus = Number(/Event bus http:\/\/127\.0\.0\.1:(\d+)/.exec(output())?.[1]);
        assert.ok(started.length >= 3, `npm start runs node, the Temporal server and ElasticMQ: ${started}`);
        assert.ok(
          temporal > 0 && sqs > 0 && bus > 0,
          'the output names the Temporal server, SQS and the bus',
        );
        assert.equal(await listening(sqs), true);
        assert.equal(await listening(port), true);
        assert.equal(await listening(temporal), true);

        const sent = Date.now();
        process.kill(group, signal);
        const ended = await until(() => npm.exitCode !== null || npm.signalCode !== null, 20_000);
        const gone = await until(() => started.every((pid) => !alive(pid)), 10_000);

        assert.ok(ended, `npm did not exit:\n${output()}`);
        assert.deepEqual(
          started.filter(alive),
          [],
          `left behind: ${started.filter(alive).join(', ')}\n${output()}`,
        );
        assert.ok(gone);
        assert.equal(await listening(port), false, 'the gateway port is released');
        assert.equal(await listening(temporal), false, "the Temporal server's port is released");
        assert.equal(await listening(sqs), false, "the local SQS server's port is released");
        assert.equal(await listening(bus), false, "the event bus's port is released");
        t.diagnostic(`${signal}: ${started.length} processes ended in ${Date.now() - sent} ms`);
      } finally {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // Ended as it should have.
        }
      }
    });
  }
});
