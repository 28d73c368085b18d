import { type ChildProcess, fork } from 'node:child_process';
import { stopChild } from '../../scripts/temporalServer.ts';

/**
 * A Lambda execution environment in a child process: it imports the http handler once and invokes
 * it for each event the parent sends over IPC, so that the parent can freeze it between invocations
 * with SIGSTOP, as Lambda freezes a process, and thaw it with SIGCONT.
 */

interface Invocation {
  readonly id: number;
  readonly event: unknown;
  readonly timeoutMs: number;
}

export interface InvocationResult {
  readonly result: unknown;
  /** How long the handler took, measured inside the environment. */
  readonly elapsedMs: number;
}

export interface WarmHandler {
  invoke(event: unknown, timeoutMs?: number): Promise<InvocationResult>;
  freeze(): void;
  thaw(): void;
  /** Everything the environment wrote to stdout and stderr. */
  readonly output: string[];
  stop(): Promise<void>;
}

export const startWarmHandler = async (env: NodeJS.ProcessEnv): Promise<WarmHandler> => {
  const child: ChildProcess = fork(new URL(import.meta.url), ['serve'], {
    env,
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  }
  const pending = new Map<number, (result: InvocationResult) => void>();
  let nextId = 0;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`the environment exited with ${code}:\n${output.join('\n')}`)),
    );
    child.on('message', (message: { ready?: true; id?: number } & InvocationResult) => {
      if (message.ready) resolve();
      else if (message.id !== undefined) pending.get(message.id)?.(message);
    });
  });
  await ready;
  return {
    invoke(event, timeoutMs = 10_000) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, event, timeoutMs } satisfies Invocation);
      });
    },
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    output,
    async stop() {
      child.kill('SIGCONT');
      await stopChild(child);
    },
  };
};

if (import.meta.main && process.argv[2] === 'serve') {
  const { lambdaContext } = await import('../../scripts/lambdaContext.ts');
  const { handler } = await import('../../functions/http.ts');
  process.on('message', async ({ id, event, timeoutMs }: Invocation) => {
    const started = Date.now();
    const result = await handler(event as never, lambdaContext({ timeoutMs }));
    process.send?.({ id, result, elapsedMs: Date.now() - started });
  });
  process.send?.({ ready: true });
}
