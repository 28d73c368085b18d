import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { glob, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from './build.ts';
import { endGroup, endRunning } from './progress.ts';
import { startDevServer } from './temporalServer.ts';

/**
 * `npm test`: the build, then one real Temporal dev server for the whole run (or the one at
 * TEMPORAL_ADDRESS), then the tests with Node's test runner, then the secret canary
 * (test/leaks/canary.test.ts) over everything the run captured. The server is stopped however the run
 * ends, SIGINT and SIGTERM included.
 *
 * Arguments: a test file, a glob, or a piece of a test file's path (`npm test -- signature`) runs just
 * those files; options go to `node --test` (`npm test -- --test-name-pattern=sqs`). The report leaves out
 * what the code under test prints unless a file fails (scripts/quietReporter.ts); `TEST_LOGS=1` shows it.
 */

const SUITE = ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'];
/** `node --test` options that take their value as the next argument. */
const VALUED = new Set([
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-concurrency',
  '--test-timeout',
  '--test-shard',
]);

/** The `node --test` arguments for what the command line asks: its options, and its files or the suite. */
export const testArgs = async (argv: readonly string[]): Promise<string[]> => {
  const options: string[] = [];
  const wanted: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg.startsWith('-')) {
      options.push(arg);
      if (VALUED.has(arg) && i + 1 < argv.length) options.push(argv[++i] as string);
    } else {
      wanted.push(arg);
    }
  }
  const files: string[] = [];
  if (wanted.length > 0) {
    const suite: string[] = [];
    for await (const file of glob(SUITE)) suite.push(file);
    suite.sort();
    for (const want of wanted) {
      // A file or a glob as given; a folder, like any other piece of a path, by the suite files under it.
      if ((existsSync(want) && !statSync(want).isDirectory()) || /[*?{[]/.test(want)) {
        files.push(want);
        continue;
      }
      const matching = suite.filter((file) => file.includes(want));
      if (matching.length === 0) throw new Error(`no test file matches "${want}"`);
      files.push(...matching);
    }
  }
  const reporter = options.some((option) => option.startsWith('--test-reporter'))
    ? []
    : ['--test-reporter', QUIET_REPORTER, '--test-reporter-destination', 'stdout'];
  return [...reporter, ...options, ...(files.length > 0 ? files : SUITE)];
};

const QUIET_REPORTER = join(import.meta.dirname, 'quietReporter.ts');

if (import.meta.main) {
  // A signal stops the run at any point: the build ends by itself, the tests' process group is ended,
  // the dev server stopped, the captures removed.
  let stopping: NodeJS.Signals | undefined;
  let tests: ChildProcess | undefined;
  let cleanUp = async (): Promise<void> => {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping !== undefined) return;
    stopping = signal;
    endRunning();
    void (async () => {
      if (tests?.pid !== undefined) await endGroup(tests);
      await cleanUp();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await build();
  const server = await startDevServer();
  const capture = await mkdtemp(join(tmpdir(), 'test-capture-'));
  cleanUp = async () => {
    await server.stop();
    await rm(capture, { recursive: true, force: true });
  };
  if (stopping !== undefined) await new Promise(() => {});

  const env = {
    // The handlers' INFO line per start would drown the report; tests that read logs raise the level.
    POWERTOOLS_LOG_LEVEL: 'WARN',
    ...process.env,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    TEST_CAPTURE_DIR: capture,
  };

  /**
   * Runs `node --test` with `args`, its output shown and kept for the canary. It gets a process group of
   * its own, so that a signal ends every test process and every server a test started.
   */
  const nodeTest = async (
    args: readonly string[],
    log: string,
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<number> => {
    const child = spawn(process.execPath, ['--test', ...args], {
      stdio: ['inherit', 'pipe', 'pipe'],
      env: { ...env, ...extraEnv },
      detached: true,
    });
    tests = child;
    const kept = createWriteStream(join(capture, log));
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      kept.write(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      kept.write(chunk);
    });
    const code = await new Promise<number>((resolve) => child.on('exit', (exit) => resolve(exit ?? 1)));
    await new Promise((resolve) => kept.end(resolve));
    return code;
  };

  let exitCode = 1;
  try {
    const args = await testArgs(process.argv.slice(2));
    const suite = await nodeTest(args, 'output-runner.log');
    const canary = await nodeTest(['test/leaks/canary.test.ts'], 'canary.log', {
      TEST_PARTIAL: SUITE.every((pattern) => args.includes(pattern)) ? '0' : '1',
    });
    exitCode = suite !== 0 ? suite : canary;
  } catch (error) {
    process.stderr.write(`[test] ${error instanceof Error ? error.message : String(error)}\n`);
  } finally {
    if (stopping === undefined) {
      await cleanUp();
      process.exit(exitCode);
    }
  }
}
