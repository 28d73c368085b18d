import type { Options as HttpCorsOptions } from '@middy/http-cors';

/**
 * CORS, defined once for the HTTP API's CorsConfiguration (infra/derive.ts) and for the http function's
 * @middy/http-cors (functions/http.ts), so that a browser gets the same answer from either. With the
 * HTTP API's CORS on, API Gateway answers preflights itself and ignores the function's CORS headers;
 * the function's own answer counts behind a REST API, an ALB or the local gateway.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
 *
 * This module is on the http function's cold path and is loaded by the packaging: it imports nothing.
 */
export const CORS = {
  allowMethods: ['GET', 'POST'],
  /** The request headers of the HTTP contract, of a JWT and of SigV4. */
  allowHeaders: [
    'authorization',
    'content-type',
    'idempotency-key',
    'prefer',
    'x-amz-content-sha256',
    'x-amz-date',
    'x-amz-security-token',
  ],
  /** The response headers a browser script may read: a started workflow, `Prefer`'s answer, a retry hint. */
  exposeHeaders: ['location', 'preference-applied', 'retry-after'],
  maxAgeSeconds: 600,
} as const;

/** Any origin, or any HTTPS origin: the only wildcards API Gateway's CorsConfiguration takes. */
const WILDCARDS = ['*', 'https://*'];

/** `scheme://host[:port]`, nothing after it: a host name, an IPv4 address or a bracketed IPv6 address. */
const EXACT_ORIGIN =
  /^https?:\/\/(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** Whether an allow-list entry follows API Gateway's rule: an exact origin, `*` or `https://*`. */
export const isAllowedOriginEntry = (entry: string): boolean =>
  WILDCARDS.includes(entry) || EXACT_ORIGIN.test(entry);

/**
 * Checks an allow-list of origins against API Gateway's rule and returns it; throws an Error naming
 * every bad entry and `source`, where the list came from. Patterns such as `https://*.example.com`
 * are refused: the HTTP API cannot serve them, so the function must not either.
 */
export const checkCorsOrigins = (origins: readonly string[], source: string): readonly string[] => {
  const bad = origins.filter((entry) => !isAllowedOriginEntry(entry));
  if (bad.length > 0) {
    const entries = bad.map((entry) => JSON.stringify(entry)).join(', ');
    throw new Error(
      `${source}: ${entries} ${bad.length === 1 ? 'is not an allowed origin' : 'are not allowed origins'}; ` +
        'each entry must be an exact origin (scheme://host[:port], such as https://app.example.com), "*" or "https://*"',
    );
  }
  return origins;
};

/**
 * The `Access-Control-Allow-Origin` value for a request's `Origin` under an allow-list, as API Gateway
 * computes it: `*` for `*`, the origin itself when it is listed or when `https://*` covers it, else none.
 */
export const allowedOrigin = (origins: readonly string[], origin: string | undefined): string | undefined => {
  if (origins.includes('*')) return '*';
  if (origin === undefined || !EXACT_ORIGIN.test(origin)) return undefined;
  const lower = origin.toLowerCase();
  if (origins.some((entry) => entry.toLowerCase() === lower)) return origin;
  return origins.includes('https://*') && lower.startsWith('https://') ? origin : undefined;
};

/** @middy/http-cors options for an allow-list that checkCorsOrigins accepted. */
export const httpCorsOptions = (origins: readonly string[]): HttpCorsOptions => ({
  // Listed too so that middy adds `Vary: Origin` when it reflects an origin; the match is getOrigin's.
  origins: [...origins],
  getOrigin: (origin) => allowedOrigin(origins, origin),
  // Preflights are answered without reaching Temporal.
  disableBeforePreflightResponse: false,
  headers: CORS.allowHeaders.join(', '),
  methods: CORS.allowMethods.join(', '),
  exposeHeaders: CORS.exposeHeaders.join(', '),
  maxAge: CORS.maxAgeSeconds,
});
