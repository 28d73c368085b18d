import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { run, withProgress } from './progress.ts';

/**
 * A real Temporal dev server for tests and local runs. The CLI binary comes from, in order: `temporal`
 * on the PATH, this project's cache folder, `go install` into that cache, or @temporalio/testing's
 * download (which needs internet access). The cache lives outside the checkout, so clones share it.
 */

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const CACHE_DIR =
  process.env.TEMPORAL_CLI_CACHE ??
  join(
    process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
    'temporal-aws-triggers',
    `temporal-${TEMPORAL_CLI_VERSION}`,
  );

const log = (message: string): void => {
  process.stderr.write(`[temporal] ${message}\n`);
};

const onPath = (name: string): string | undefined =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, name))
    .find((candidate) => existsSync(candidate));

/** Builds the CLI with Go. Later tags carry a `replace` directive that `go install` refuses; this one has none. */
const goInstall = async (): Promise<string | undefined> => {
  if (onPath('go') === undefined) return undefined;
  log(`building temporal ${TEMPORAL_CLI_VERSION} with go install into ${CACHE_DIR} (a few minutes, once)`);
  const build = run('go', ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: CACHE_DIR, GOFLAGS: '-buildvcs=false' },
  });
  try {
    await withProgress('building the Temporal CLI with go install', build, log);
  } catch (error) {
    log(`go install failed: ${(error as Error).message}`);
    return undefined;
  }
  return join(CACHE_DIR, 'temporal');
};

/** The path of a `temporal` CLI, building it if needed; undefined when only the SDK's download is left. */
export const temporalBinary = async (): Promise<string | undefined> => {
  const cached = join(CACHE_DIR, 'temporal');
  const found = onPath('temporal') ?? (existsSync(cached) ? cached : undefined);
  if (found !== undefined) return found;
  await mkdir(CACHE_DIR, { recursive: true });
  return goInstall();
};

/** A free TCP port on loopback, chosen by the kernel. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

/** Whether a Temporal frontend answers at `address` within `timeoutMs`. */
export const reachable = async (address: string, timeoutMs = 2_000): Promise<boolean> => {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.close();
    return true;
  } catch {
    return false;
  }
};

export interface DevServer {
  readonly address: string;
  readonly namespace: string;
  /** The web UI, when it was started. */
  readonly uiUrl: string | undefined;
  /** Stops the server if this process started it. Safe to call twice. */
  stop(): Promise<void>;
}

const waitUntilReady = async (address: string, child: ChildProcess, timeoutMs: number): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
    if (await reachable(address, 1_000)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`temporal server at ${address} was not ready within ${timeoutMs} ms`);
};

/** Stops a child process: SIGTERM, then SIGKILL after 5 s. */
export const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });

/** The namespace besides `default` that a dev server of ours has from the start. */
export const SECOND_NAMESPACE = 'triggers-second';

export interface DevServerOptions {
  /** Serve the web UI too. */
  readonly ui?: boolean;
  /** Keep the server's state in this SQLite file, so that a restart finds it again (default: in memory). */
  readonly dbFilename?: string;
  /** The frontend's port (default: a free one). */
  readonly port?: number;
  /** Dynamic configuration values (`--dynamic-config-value KEY=VALUE`, each value as JSON). */
  readonly dynamicConfig?: Readonly<Record<string, unknown>>;
}

/** A dev server process of our own: its address, and how to end it. */
export interface SpawnedDevServer extends DevServer {
  readonly child: ChildProcess;
}

export const spawnDevServer = async (
  binary: string,
  options: DevServerOptions = {},
): Promise<SpawnedDevServer> => {
  const ip = '127.0.0.1';
  const ui = options.ui ?? false;
  const [port, httpPort, metricsPort, uiPort] = await Promise.all([
    options.port ?? freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--http-port', String(httpPort)];
  args.push('--metrics-port', String(metricsPort), '--log-level', 'error');
  args.push(...(ui ? ['--ui-ip', ip, '--ui-port', String(uiPort)] : ['--headless']));
  if (options.dbFilename !== undefined) args.push('--db-filename', options.dbFilename);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  // A second namespace, for the routes that start workflows outside the default one.
  args.push('--namespace', SECOND_NAMESPACE);
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const address = `${ip}:${port}`;
  const stop = () => stopChild(child);
  try {
    await waitUntilReady(address, child, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, namespace: 'default', uiUrl: ui ? `http://${ip}:${uiPort}` : undefined, stop, child };
};

/** Last resort: the SDK downloads the CLI (this needs access to Temporal's release downloads). */
const downloadedDevServer = async (): Promise<DevServer> => {
  log('no temporal CLI and no Go toolchain: trying @temporalio/testing, which downloads the CLI');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { ip: '127.0.0.1', port: await freePort() },
  });
  const address = env.address;
  return { address, namespace: env.namespace ?? 'default', uiUrl: undefined, stop: () => env.teardown() };
};

/**
 * Uses the server at TEMPORAL_ADDRESS when it answers; otherwise starts a dev server on free loopback
 * ports. The caller must `stop()` it, in a `finally`.
 */
export const startDevServer = async (options: { ui?: boolean } = {}): Promise<DevServer> => {
  const existing = process.env.TEMPORAL_ADDRESS;
  if (existing && (await reachable(existing))) {
    log(`using the Temporal server at ${existing}`);
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
    return { address: existing, namespace, uiUrl: undefined, stop: async () => {} };
  }
  if (existing) log(`TEMPORAL_ADDRESS=${existing} does not answer: starting a dev server instead`);
  const binary = await temporalBinary();
  return binary === undefined ? downloadedDevServer() : spawnDevServer(binary, { ui: options.ui ?? false });
};

if (import.meta.main && process.argv[2] === 'install') {
  const binary = await temporalBinary();
  if (binary === undefined) {
    log('no temporal CLI could be built; tests will try @temporalio/testing download');
  } else {
    log(`temporal CLI: ${binary}`);
  }
}
