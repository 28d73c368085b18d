import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { keepStderr, waitUntilReady } from './childServer.ts';
import { installPythonEnv, venvBin } from './pythonEnv.ts';
import { freePort, stopChild } from './temporalServer.ts';

export interface MotoServer {
  readonly endpoint: string;
  /** What the AWS SDK needs to reach it: endpoint, region and dummy credentials. */
  readonly env: {
    readonly AWS_ENDPOINT_URL: string;
    readonly AWS_REGION: string;
    readonly AWS_ACCESS_KEY_ID: string;
    readonly AWS_SECRET_ACCESS_KEY: string;
  };
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * moto's server mode from the project's .venv, on a free loopback port: real AWS APIs (Secrets
 * Manager, SQS) for the real AWS SDK, without AWS. Installs the virtualenv first when it is missing.
 */
export const startMotoServer = async (env: Record<string, string> = {}): Promise<MotoServer> => {
  if (!existsSync(venvBin('moto_server'))) await installPythonEnv();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(venvBin('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  const stderr = keepStderr(child);
  const stop = () => stopChild(child);
  try {
    const ready = () => fetch(`${endpoint}/moto-api/`).then((response) => response.ok);
    await waitUntilReady('moto_server', child, ready, stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    },
    child,
    stop,
  };
};
