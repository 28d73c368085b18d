import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  type SpawnedDevServer,
  spawnDevServer,
  temporalBinary,
} from '../../scripts/temporalServer.ts';

/**
 * A dev server of the test's own that can be killed (SIGKILL, as a crash or a failed host does) and
 * started again on the same address and the same SQLite database, as a rolling restart or a failover
 * brings it back. Always a server of its own, never TEMPORAL_ADDRESS: killing that would end the run.
 */
export interface RestartableServer {
  readonly address: string;
  readonly namespace: string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same address and database; resolves once it answers. */
  restart(): Promise<void>;
  /** Stops the server, wherever it is, and removes its database. Safe to call twice. */
  stop(): Promise<void>;
}

export const startRestartableServer = async (): Promise<RestartableServer> => {
  const binary = await temporalBinary();
  if (binary === undefined)
    throw new Error('a restartable server needs the temporal CLI (npm test installs it)');
  const dir = await mkdtemp(join(tmpdir(), 'temporal-restart-'));
  const options = {
    dbFilename: join(dir, 'temporal.db'),
    port: await freePort(),
    // One partition per task queue. With the default four, a partition whose task reader the restart
    // left closed holds the workflow tasks that land on it until the server reloads it, while tasks on
    // the others run: a workflow that completes would then prove nothing about the next one. A task
    // queue with one partition works for every workflow once it works for one.
    dynamicConfig: { 'matching.numTaskqueueReadPartitions': 1, 'matching.numTaskqueueWritePartitions': 1 },
  };
  let server: SpawnedDevServer | undefined;
  try {
    server = await spawnDevServer(binary, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const { address, namespace } = server;
  return {
    address,
    namespace,
    async kill() {
      const child = server?.child;
      server = undefined;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      if (server !== undefined) throw new Error('the server is running');
      for (let attempt = 1; ; attempt += 1) {
        try {
          server = await spawnDevServer(binary, options);
          return;
        } catch (error) {
          // The dev server can exit while it starts (once in a CI run: exit code 2, a port it picks for
          // itself taken): start it again, as whatever restarts a real server would.
          const exited = error instanceof Error && /exited with code/.test(error.message);
          if (!exited || attempt === 3) throw error;
          process.stderr.write(`[restartable server] ${(error as Error).message}; starting it again\n`);
        }
      }
    },
    async stop() {
      await server?.stop();
      server = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
};
