/**
 * Where the http function serves its OpenAPI document when HTTP_OPENAPI is on (lib/http/openapi.ts), and
 * the route infra/derive.ts adds for it when the httpOpenapi parameter is on. Loaded by the packaging, so
 * it imports nothing.
 */
export const OPENAPI_PATH = '/openapi.json';
