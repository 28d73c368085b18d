import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer } from './temporalServer.ts';

/**
 * `npm test`: one real Temporal dev server for the whole run (or the one at TEMPORAL_ADDRESS), then
 * every unit and integration test with Node's test runner, then the secret canary
 * (test/leaks/canary.test.ts) over everything the run captured. The server is stopped however the run
 * ends. Extra arguments go to `node --test` (for example `npm test -- --test-name-pattern=sqs`).
 */
const server = await startDevServer();
const capture = await mkdtemp(join(tmpdir(), 'test-capture-'));
let exitCode = 1;
const stop = async (signal?: NodeJS.Signals) => {
  await server.stop();
  await rm(capture, { recursive: true, force: true });
  process.exit(signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : exitCode);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

const env = {
  // The handlers' INFO line per start would drown the report; tests that read logs raise the level.
  POWERTOOLS_LOG_LEVEL: 'WARN',
  ...process.env,
  TEMPORAL_ADDRESS: server.address,
  TEMPORAL_NAMESPACE: server.namespace,
  TEST_CAPTURE_DIR: capture,
};

/** Runs `node --test` with `args`, its output shown and kept for the canary. */
const nodeTest = async (args: readonly string[], log: string): Promise<number> => {
  const child = spawn(process.execPath, ['--test', ...args], { stdio: ['inherit', 'pipe', 'pipe'], env });
  const kept = createWriteStream(join(capture, log));
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    kept.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    kept.write(chunk);
  });
  const code = await new Promise<number>((resolve) => child.on('exit', (exit) => resolve(exit ?? 1)));
  await new Promise((resolve) => kept.end(resolve));
  return code;
};

try {
  const suite = await nodeTest(
    [...process.argv.slice(2), 'test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    'output-runner.log',
  );
  const canary = await nodeTest(['test/leaks/canary.test.ts'], 'canary.log');
  exitCode = suite !== 0 ? suite : canary;
} finally {
  await stop();
}
