import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A server in a child process, its stderr kept (the last 4,000 characters) for the error that says
 * why it did not come up.
 */
export const keepStderr = (child: ChildProcess): (() => string) => {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  return () => stderr;
};

/** Waits until `ready()` says the server answers; fails when the child exits first or time runs out. */
export const waitUntilReady = async (
  name: string,
  child: ChildProcess,
  ready: () => Promise<boolean>,
  stderr: () => string,
  timeoutMs = 30_000,
): Promise<void> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${stderr()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${name} did not answer within ${timeoutMs} ms:\n${stderr()}`);
    await sleep(100);
  }
};
