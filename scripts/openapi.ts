import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openapiDocument } from '#lib/http/openapi.ts';
import type { RoutesFile } from '#lib/routes/schema.ts';
import { compileRoutes } from '#lib/routes/validate.ts';

/**
 * `npm run openapi [-- --routes <file>] [--out <file>] [--served]`: the OpenAPI 3.1 document of the HTTP
 * API a routes file defines (routes.json by default), on stdout or into `--out`. The file is validated
 * first, as the build validates it. `--served` adds GET /openapi.json, as the http function serves the
 * document with HTTP_OPENAPI on. docs/openapi.md.
 */
export const openapiText = async (routes = 'routes.json', served = false): Promise<string> => {
  const file = JSON.parse(await readFile(routes, 'utf8')) as unknown;
  // The task queue fallback is a deployment setting, checked at cold start, as the build takes it.
  compileRoutes(file, routes, '(TEMPORAL_TASK_QUEUE)');
  const document = openapiDocument({ routes: [], ...(file as Partial<RoutesFile>) } as RoutesFile, {
    served,
  });
  return `${JSON.stringify(document, null, 2)}\n`;
};

if (import.meta.main) {
  const { values } = parseArgs({
    options: { routes: { type: 'string' }, out: { type: 'string' }, served: { type: 'boolean' } },
  });
  const text = await openapiText(values.routes, values.served);
  if (values.out === undefined) process.stdout.write(text);
  else {
    await writeFile(values.out, text);
    console.error(`wrote ${values.out} from ${values.routes ?? 'routes.json'}`);
  }
}
