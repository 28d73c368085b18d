import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { installPythonEnv, venvBin } from '../../scripts/pythonEnv.ts';
import { freePort, stopChild } from '../../scripts/temporalServer.ts';

export interface Moto {
  readonly endpoint: string;
  /** What the code under test needs to reach moto through the real AWS SDK. */
  readonly env: Record<string, string>;
  /** A Secrets Manager client of the test's own, to create, rotate and delete secrets. */
  readonly secretsManager: SecretsManagerClient;
  /** How many requests of an AWS action, such as `secretsmanager.GetSecretValue`, moto has served. */
  served(action: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * moto's server mode from the project's .venv on a free loopback port: a real Secrets Manager API
 * for the real AWS SDK. Its recorder (a file in a temporary folder) lets tests count the requests it
 * served. Installs the virtualenv first when it is missing, so `npm test` works on a fresh clone.
 */
export const startMoto = async (): Promise<Moto> => {
  if (!existsSync(venvBin('moto_server'))) await installPythonEnv();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'moto-'));
  const recording = join(dir, 'recording.jsonl');
  await writeFile(recording, '');
  const child = spawn(venvBin('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ENABLE_RECORDING: 'true', MOTO_RECORDER_FILEPATH: recording },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const until = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${stderr}`);
      const up = await fetch(`${endpoint}/moto-api/`).then(
        (response) => response.ok,
        () => false,
      );
      if (up) break;
      if (Date.now() > until) throw new Error(`moto_server did not answer at ${endpoint}:\n${stderr}`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
  const secretsManager = new SecretsManagerClient({
    endpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  return {
    endpoint,
    env,
    secretsManager,
    async served(action) {
      const lines = (await readFile(recording, 'utf8')).split('\n').filter(Boolean);
      return lines.filter((line) => {
        const headers = (JSON.parse(line) as { headers: Record<string, string> }).headers;
        return Object.entries(headers).some(
          ([name, value]) => name.toLowerCase() === 'x-amz-target' && value === action,
        );
      }).length;
    },
    async stop() {
      secretsManager.destroy();
      await stop();
    },
  };
};
