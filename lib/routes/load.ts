import { readFileSync } from 'node:fs';
import { cached } from '#lib/cache.ts';
import { config } from '#lib/config.ts';
import { RoutesFileError } from '#lib/errors.ts';
import bundledRoutes from '../../routes.json' with { type: 'json' };
import { compile } from './compile.ts';
import type { Routes } from './model.ts';
import type { RoutesFile } from './schema.ts';

const readRoutesFile = (path: string): unknown => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RoutesFileError(`Cannot read routes file ${path} (ROUTES_FILE)`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RoutesFileError(`Routes file ${path} (ROUTES_FILE) is not valid JSON`, { cause: error });
  }
};

/** The schema's one default, for the bundled file, which reaches a cold start without the validator. */
const withDefaults = (file: unknown): RoutesFile =>
  ({ routes: [], ...(file as Partial<RoutesFile>) }) as RoutesFile;

/**
 * The routes in force: the file named by ROUTES_FILE, or the routes.json bundled at build time. Await
 * it at module scope, so that a bad file fails the cold start, not the first event. A failure is not
 * kept: a test, or a tool that fixes the file, can load it again.
 *
 * The bundled file was validated when it was built (infra/build.ts fails on a bad one), so a cold start
 * only compiles it; the validator, and zod with it, is loaded only for a file named at run time.
 */
export const routes = cached((): Promise<Routes> => {
  const { routesFile, taskQueue } = config();
  return routesFile === undefined
    ? Promise.resolve().then(() => compile(withDefaults(bundledRoutes), '(bundled routes.json)', taskQueue))
    : import('./validate.ts').then(({ compileRoutes }) =>
        compileRoutes(readRoutesFile(routesFile), routesFile, taskQueue),
      );
});

/** Forgets the loaded routes, for tests that change ROUTES_FILE. */
export const resetRoutes = (): void => routes.reset();
