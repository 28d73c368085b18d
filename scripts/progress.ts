import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Long first-run steps (building the Temporal CLI, the Python environment) can be silent for minutes:
 * `withProgress` says what is still happening at a fixed interval until the work settles.
 */
export const withProgress = async <T>(
  what: string,
  work: Promise<T>,
  log: (message: string) => void,
  everyMs = 60_000,
): Promise<T> => {
  const started = Date.now();
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log(
      `still ${what} (${seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`} so far)`,
    );
  }, everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
};

/** The commands `run` is running: `endRunning` ends them when a script is stopped. */
const running = new Set<ChildProcess>();

/** Ends every command `run` started that is still running (a build, an install), so none outlives a stop. */
export const endRunning = (): void => {
  for (const child of running) child.kill('SIGTERM');
};

/**
 * Runs a command to its end, its output on stderr, and rejects when it fails. Asynchronous, unlike
 * execFileSync, so that progress lines and signals are handled while it runs.
 */
export const run = (
  command: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv } = {},
): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 2, 2], env: options.env ?? process.env });
    running.add(child);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      running.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });

/**
 * Ends a child spawned with `detached: true` and everything in its process group: SIGTERM, then SIGKILL
 * to what is left after `graceMs`.
 */
export const endGroup = async (child: ChildProcess, graceMs = 5_000): Promise<void> => {
  const group = child.pid;
  if (group === undefined) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-group, name);
    } catch {
      // The group is gone already.
    }
  };
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs))]);
  // Anything the group's leader left behind, or the leader itself when it did not stop in time.
  signal('SIGKILL');
};

const cleanups = new Set<() => Promise<void> | void>();
let stopping = false;

/** Whether a signal is stopping the process: work that fails now failed because of the stop. */
export const isStopping = (): boolean => stopping;

/**
 * Runs `cleanup` when SIGINT or SIGTERM arrives, before the process exits with the signal's code, so
 * that a script stopped by a process manager or an IDE leaves no server or child behind. Returns a
 * function that unregisters it, for cleanups that ran normally.
 */
export const onStop = (cleanup: () => Promise<void> | void): (() => void) => {
  if (cleanups.size === 0 && !stopping) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping\n`);
        endRunning();
        void (async () => {
          for (const run of [...cleanups].reverse()) {
            try {
              await run();
            } catch {
              // The next cleanup still runs.
            }
          }
          process.exit(signal === 'SIGINT' ? 130 : 143);
        })();
      });
    }
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
};
