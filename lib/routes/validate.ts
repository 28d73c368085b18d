import * as z from 'zod/mini';
import { RoutesFileError } from '#lib/errors.ts';
import { compile } from './compile.ts';
import { compileInputSchemas } from './compileInputSchemas.ts';
import type { Routes } from './model.ts';
import { RoutesFileSchema } from './schema.ts';

/**
 * Validates a parsed routes file against the schema, then compiles it. Throws a RoutesFileError listing
 * every problem. Kept apart from load.ts so that zod and ajv load only where a file is validated: at build
 * time for the bundled routes.json, at cold start only for a file named by ROUTES_FILE.
 */
export const compileRoutes = (raw: unknown, origin: string, taskQueue: string | undefined): Routes => {
  const parsed = RoutesFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RoutesFileError(`Invalid routes file ${origin}:\n${z.prettifyError(parsed.error)}`);
  }
  return compile(parsed.data, origin, taskQueue, compileInputSchemas(parsed.data));
};
