import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './progress.ts';

/**
 * The build as the local scripts run it: `node infra/build.ts` in a child process, its output on
 * stderr (so a script's stdout stays its own), skipped by `npm run invoke` when the bundles are newer
 * than everything they are built from.
 */

const ROOT = join(import.meta.dirname, '..');
const FUNCTIONS = ['http', 'sqs', 'eventbridge', 'streams'];
/** What the bundles are built from: the code, the routes file, and the dependencies. */
const SOURCES = ['functions', 'lib', 'infra', 'routes.json', 'package.json', 'package-lock.json'];

const newest = async (path: string): Promise<number> => {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const times = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => (await stat(join(entry.parentPath, entry.name))).mtimeMs),
  );
  return Math.max(0, ...times);
};

/** Whether every bundle in `root`/dist is newer than every source it is built from. */
export const bundlesFresh = async (root = ROOT): Promise<boolean> => {
  const bundles = FUNCTIONS.map((name) => join(root, 'dist', name, 'index.mjs'));
  if (!bundles.every((bundle) => existsSync(bundle))) return false;
  const built = Math.min(...(await Promise.all(bundles.map(async (bundle) => (await stat(bundle)).mtimeMs))));
  const sources = SOURCES.map((source) => join(root, source)).filter((source) => existsSync(source));
  const changed = Math.max(...(await Promise.all(sources.map(newest))));
  return changed < built;
};

/** Builds every function into dist/, printing to stderr; rejects when the build fails. */
export const build = (): Promise<void> => run(process.execPath, [join(ROOT, 'infra', 'build.ts')]);
