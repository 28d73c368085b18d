import { readFileSync } from 'node:fs';
import { validators as prebuiltValidators } from '#bundled-input-validators';
import { cached } from '#lib/cache.ts';
import { config } from '#lib/config.ts';
import { RoutesFileError } from '#lib/errors.ts';
import bundledRoutes from '../../routes.json' with { type: 'json' };
import { compile } from './compile.ts';
import { type CompiledInputSchemas, inputSchemasOf } from './inputSchema.ts';
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
 * The bundled file's input schemas: compiled into the bundle by the build (infra/inputValidators.ts);
 * run from source, compiled here, with the compiler loaded only when there are any.
 */
const bundledInputSchemas = async (file: RoutesFile): Promise<CompiledInputSchemas> => {
  if (prebuiltValidators !== undefined) return { validators: prebuiltValidators, problems: [] };
  if (inputSchemasOf(file).size === 0) return { validators: {}, problems: [] };
  const { compileInputSchemas } = await import('./compileInputSchemas.ts');
  return compileInputSchemas(file);
};

/**
 * The routes in force: the file named by ROUTES_FILE, or the routes.json bundled at build time. Await
 * it at module scope, so that a bad file fails the cold start, not the first event. A failure is not
 * kept: a test, or a tool that fixes the file, can load it again.
 *
 * The bundled file was validated when it was built (infra/build.ts fails on a bad one), and its input
 * schemas compiled into the bundle, so a cold start only compiles its routes; the validators, zod and
 * ajv, are loaded only for a file named at run time.
 */
export const routes = cached((): Promise<Routes> => {
  const { routesFile, taskQueue } = config();
  if (routesFile === undefined) {
    const file = withDefaults(bundledRoutes);
    return bundledInputSchemas(file).then((inputs) =>
      compile(file, '(bundled routes.json)', taskQueue, inputs),
    );
  }
  return import('./validate.ts').then(({ compileRoutes }) =>
    compileRoutes(readRoutesFile(routesFile), routesFile, taskQueue),
  );
});

/** Forgets the loaded routes, for tests that change ROUTES_FILE. */
export const resetRoutes = (): void => routes.reset();
