import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startMotoServer } from '../../scripts/motoServer.ts';

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
 * moto's server (scripts/motoServer.ts) for a test: a real Secrets Manager API for the real AWS SDK.
 * Its recorder (a file in a temporary folder) lets tests count the requests it served.
 */
export const startMoto = async (): Promise<Moto> => {
  const dir = await mkdtemp(join(tmpdir(), 'moto-'));
  const recording = join(dir, 'recording.jsonl');
  await writeFile(recording, '');
  const server = await startMotoServer({
    MOTO_ENABLE_RECORDING: 'true',
    MOTO_RECORDER_FILEPATH: recording,
  }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const { endpoint, env } = server;
  const secretsManager = new SecretsManagerClient({
    endpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  return {
    endpoint,
    env: { ...env },
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
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
};
