import { spawn } from 'node:child_process';
import { startDevServer } from './temporalServer.ts';

/**
 * `npm test`: one real Temporal dev server for the whole run (or the one at TEMPORAL_ADDRESS), then
 * every unit and integration test with Node's test runner. The server is stopped however the run ends.
 * Extra arguments go to `node --test` (for example `npm test -- --test-name-pattern=sqs`).
 */
const server = await startDevServer();
let exitCode = 1;
const stop = async (signal?: NodeJS.Signals) => {
  await server.stop();
  process.exit(signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : exitCode);
};
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

try {
  const args = [
    '--test',
    ...process.argv.slice(2),
    'test/unit/**/*.test.ts',
    'test/integration/**/*.test.ts',
  ];
  const child = spawn(process.execPath, args, {
    stdio: 'inherit',
    env: {
      // The handlers' INFO line per start would drown the report; tests that read logs raise the level.
      POWERTOOLS_LOG_LEVEL: 'WARN',
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
    },
  });
  exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
} finally {
  await stop();
}
