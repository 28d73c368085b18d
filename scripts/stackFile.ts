import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm start` records the running local stack, so `npm run invoke` and `npm run send` can find it. */
export const STACK_FILE = fileURLToPath(new URL('../.local/stack.json', import.meta.url));

export interface Stack {
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl?: string;
  readonly gatewayUrl: string;
  /** The local SQS server (moto) holding the deployment's queues, and the local event bus. */
  readonly sqsEndpoint?: string;
  readonly busUrl?: string;
  /** The `npm start` process: a file left behind by a killed one is recognised as stale. */
  readonly pid: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
};

const read = async (): Promise<Stack | undefined> => {
  try {
    return JSON.parse(await readFile(STACK_FILE, 'utf8')) as Stack;
  } catch {
    return undefined;
  }
};

export const writeStack = async (stack: Stack): Promise<void> => {
  await mkdir(dirname(STACK_FILE), { recursive: true });
  await writeFile(STACK_FILE, `${JSON.stringify(stack, null, 2)}\n`);
};

/** The running stack, or undefined when none is recorded or the process that recorded it has gone. */
export const readStack = async (): Promise<Stack | undefined> => {
  const stack = await read();
  return stack !== undefined && alive(stack.pid) ? stack : undefined;
};

/** Removes the file, unless another `npm start` has replaced it since. */
export const removeStack = async (): Promise<void> => {
  if ((await read())?.pid === process.pid) await rm(STACK_FILE, { force: true });
};
