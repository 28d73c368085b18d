import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { spec } from 'node:test/reporters';

/**
 * The test report of `npm test`: node's spec reporter without what the code under test prints (the
 * handlers' JSON log lines, the SDK's and the worker's warnings), unless a test file fails: then that
 * file's output so far is shown above its failure. `TEST_LOGS=1` shows everything as it comes. All of it
 * is appended to TEST_CAPTURE_DIR, for the secret canary, either way.
 */

interface TestEvent {
  readonly type: string;
  readonly data: { readonly file?: string; readonly message?: string };
}

const OUTPUT = new Set(['test:stdout', 'test:stderr']);

const keep = (message: string): void => {
  const dir = process.env.TEST_CAPTURE_DIR;
  if (dir) appendFileSync(join(dir, 'output-tests.log'), message);
};

export const quiet = async function* (
  source: AsyncIterable<TestEvent>,
  show = false,
): AsyncGenerator<TestEvent> {
  const held = new Map<string, TestEvent[]>();
  const failed = new Set<string>();
  for await (const event of source) {
    // Output events name a file as the command line gave it, test events by its absolute path.
    const file = resolve(event.data.file ?? '');
    if (OUTPUT.has(event.type)) {
      keep(event.data.message ?? '');
      if (show || failed.has(file)) yield event;
      else held.set(file, [...(held.get(file) ?? []), event]);
      continue;
    }
    if (event.type === 'test:fail') {
      // What the file printed so far, then whatever it prints after: a failing file is shown whole.
      failed.add(file);
      yield* held.get(file) ?? [];
      held.delete(file);
    }
    yield event;
  }
};

// biome-ignore lint/style/noDefaultExport: node --test loads a reporter module's default export.
export default async function* report(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  yield* Readable.from(quiet(source, process.env.TEST_LOGS === '1')).pipe(
    new spec(),
  ) as AsyncIterable<string>;
}
