import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../../scripts/temporalServer.ts';
import { recordCaptured } from './canary.ts';

/**
 * A Lambda execution environment in a child process: it imports one handler once and invokes it for
 * each event the parent sends over IPC, so that the parent can freeze it between invocations with
 * SIGSTOP, as Lambda freezes a process, and thaw it with SIGCONT.
 *
 * Like Lambda's Node.js runtime, the environment reports an uncaught exception or an unhandled
 * rejection and then exits: such an error ends the execution environment, and with it the invocations
 * in flight. The parent sees the report in `crashes`, and every pending invocation rejects.
 */

export type FunctionName = 'http' | 'sqs' | 'eventbridge';

export interface WarmHandlerOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly function?: FunctionName;
  /** `source` imports functions/<name>.ts; `bundle` imports the built dist/<name>/index.mjs (default source). */
  readonly from?: 'source' | 'bundle';
  /** A bundle built elsewhere than dist/ (`npm run build -- --outdir`): its folder. */
  readonly outdir?: string;
}

interface Invocation {
  readonly id: number;
  readonly event: unknown;
  readonly timeoutMs: number;
}

export interface InvocationResult {
  readonly result?: unknown;
  /** What the handler threw, when it threw: its name and message. */
  readonly error?: { readonly name: string; readonly message: string };
  /** How long the handler took, measured inside the environment. */
  readonly elapsedMs: number;
}

export interface WarmHandler {
  invoke(event: unknown, timeoutMs?: number): Promise<InvocationResult>;
  freeze(): void;
  thaw(): void;
  /** Everything the environment wrote to stdout and stderr. */
  readonly output: string[];
  /** Uncaught exceptions and unhandled rejections the environment reported before it exited. */
  readonly crashes: string[];
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

type Message = { ready?: true; crash?: string; id?: number } & InvocationResult;

const moduleOf = (name: FunctionName, from: 'source' | 'bundle'): string =>
  fileURLToPath(
    new URL(
      from === 'bundle' ? `../../dist/${name}/index.mjs` : `../../functions/${name}.ts`,
      import.meta.url,
    ),
  );

export const startWarmHandler = async (options: WarmHandlerOptions): Promise<WarmHandler> => {
  const name = options.function ?? 'http';
  const module =
    options.outdir === undefined
      ? moduleOf(name, options.from ?? 'source')
      : `${options.outdir}/${name}/index.mjs`;
  const child: ChildProcess = fork(new URL(import.meta.url), ['serve', module], {
    env: options.env,
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  const crashes: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  }
  const pending = new Map<
    number,
    { resolve: (result: InvocationResult) => void; reject: (e: Error) => void }
  >();
  let nextId = 0;
  const exited = (code: number | null, signal: string | null) => {
    const error = new Error(
      `the environment exited (${signal ?? code}): ${crashes.join('; ') || 'no report'}`,
    );
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      exited(code, signal);
      reject(new Error(`the environment exited with ${code}:\n${output.join('\n')}`));
    });
    child.on('message', (message: Message) => {
      if (message.ready) resolve();
      else if (message.crash !== undefined) crashes.push(message.crash);
      else if (message.id !== undefined) {
        pending.get(message.id)?.resolve(message);
        pending.delete(message.id);
      }
    });
  });
  await ready;
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    invoke(event, timeoutMs = 10_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        if (!alive()) return reject(new Error('the environment is not running'));
        pending.set(id, { resolve, reject });
        child.send({ id, event, timeoutMs } satisfies Invocation);
      });
    },
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    output,
    crashes,
    alive,
    async stop() {
      child.kill('SIGCONT');
      await stopChild(child);
      recordCaptured(output);
    },
  };
};

if (import.meta.main && process.argv[2] === 'serve') {
  // What Lambda's runtime does with an error no invocation owns: report it, end the environment.
  const crash = (kind: string) => (error: unknown) => {
    const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error);
    process.send?.({ crash: `${kind}: ${text}` }, () => process.exit(1));
  };
  process.on('uncaughtException', crash('uncaughtException'));
  process.on('unhandledRejection', crash('unhandledRejection'));
  const { lambdaContext } = await import('../../scripts/lambdaContext.ts');
  const { handler } = (await import(String(process.argv[3]))) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  };
  process.on('message', async ({ id, event, timeoutMs }: Invocation) => {
    const started = Date.now();
    try {
      const result = await handler(event, lambdaContext({ timeoutMs }));
      process.send?.({ id, result, elapsedMs: Date.now() - started });
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      process.send?.({ id, error: { name, message }, elapsedMs: Date.now() - started });
    }
  });
  process.send?.({ ready: true });
}
