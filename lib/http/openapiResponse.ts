import { readFileSync } from 'node:fs';
import { cached } from '#lib/cache.ts';
import { config } from '#lib/config.ts';
import type { RoutesFile } from '#lib/routes/schema.ts';
import bundledRoutes from '../../routes.json' with { type: 'json' };
import { openapiDocument } from './openapi.ts';
import type { HttpResponse } from './response.ts';

/*
 * GET /openapi.json, with HTTP_OPENAPI on. lib/sources/http.ts imports this module with `await import()`
 * on the first such request, so the generator is in a chunk of its own that no cold start loads.
 */

/**
 * The routes file in force, as lib/routes/load.ts reads it: ROUTES_FILE, or the bundled routes.json.
 * The cold start has validated it already; the compiled routes do not keep the input schemas.
 */
const routesFile = (): RoutesFile => {
  const { routesFile: path } = config();
  const file = path === undefined ? bundledRoutes : (JSON.parse(readFileSync(path, 'utf8')) as unknown);
  return { routes: [], ...(file as Partial<RoutesFile>) } as RoutesFile;
};

/** The document, made at the first request and kept for the execution environment's life. */
export const openapiResponse = cached(
  (): HttpResponse => ({
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(openapiDocument(routesFile(), { served: true })),
  }),
);
