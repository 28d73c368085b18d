import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { MalformedJsonError, MethodNotAllowedError, NoRouteError } from '#lib/errors.ts';
import type { Routes } from '#lib/routes/load.ts';
import { fromEnvelope, fromRoute } from './resolve.ts';
import type { StartRequest } from './types.ts';

/** An API Gateway request, the same whichever payload format carried it. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** The raw body, base64-decoded when API Gateway encoded it. */
  readonly body: string | undefined;
  readonly requestId: string;
}

export type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

const isV2 = (event: HttpEvent): event is APIGatewayProxyEventV2 =>
  (event as APIGatewayProxyEventV2).version === '2.0';

const defined = (record: Record<string, string | undefined> | null | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(record ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );

const lowerCaseKeys = (record: Record<string, string>): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(record)) {
    const key = name.toLowerCase();
    result[key] = result[key] === undefined ? value : `${result[key]}, ${value}`;
  }
  return result;
};

const decodeBody = (body: string | null | undefined, isBase64Encoded: boolean): string | undefined => {
  if (body === null || body === undefined || body === '') return undefined;
  return isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
};

/** Normalizes HTTP API (payload 2.0) and REST API (payload 1.0) events into one shape. */
export const toHttpRequest = (event: HttpEvent): HttpRequest => {
  if (isV2(event)) {
    const { stage, http, requestId } = event.requestContext;
    // rawPath carries the stage name for every stage but $default.
    const prefix = stage && stage !== '$default' ? `/${stage}` : '';
    const path =
      prefix && event.rawPath.startsWith(`${prefix}/`) ? event.rawPath.slice(prefix.length) : event.rawPath;
    return {
      method: http.method.toUpperCase(),
      path,
      headers: lowerCaseKeys(defined(event.headers)),
      query: defined(event.queryStringParameters),
      body: decodeBody(event.body, event.isBase64Encoded),
      requestId,
    };
  }
  const multi = Object.fromEntries(
    Object.entries(event.multiValueHeaders ?? {}).map(([name, values]) => [name, (values ?? []).join(', ')]),
  );
  return {
    method: event.httpMethod.toUpperCase(),
    path: event.path,
    headers: lowerCaseKeys({ ...defined(event.headers), ...multi }),
    query: defined(event.queryStringParameters),
    body: decodeBody(event.body, event.isBase64Encoded),
    requestId: event.requestContext.requestId,
  };
};

const parseBody = (body: string | undefined): unknown => {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    // No `cause`: JSON.parse's message quotes the body, which must never reach a log.
    throw new MalformedJsonError('The request body is not valid JSON');
  }
};

/** A path segment, percent-decoded; kept as sent when its encoding is broken. */
const decodeSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

const CANONICAL_PATH = /^\/workflows\/(?<workflowType>[^/]+)\/?$/;

/** Chooses the route for a request (or the canonical envelope) and builds its start request. */
export const normalizeHttp = (routes: Routes, request: HttpRequest): StartRequest => {
  const allow = new Set<string>();
  for (const { route, method, pattern } of routes.http) {
    const match = pattern.exec(request.path);
    if (match === null) continue;
    if (method !== request.method) {
      allow.add(method);
      continue;
    }
    const path = Object.fromEntries(
      Object.entries(match.groups ?? {}).map(([name, value]) => [name, decodeSegment(value)]),
    );
    const { headers, query, requestId } = request;
    return fromRoute(routes, route, { body: parseBody(request.body), headers, query, path, requestId });
  }

  const canonical = CANONICAL_PATH.exec(request.path)?.groups?.workflowType;
  if (canonical !== undefined) {
    if (request.method === 'POST') {
      const key = request.headers['idempotency-key'];
      return fromEnvelope(
        routes,
        { workflowType: decodeSegment(canonical), input: parseBody(request.body) },
        (type) => `${type}-${key || randomUUID()}`,
      );
    }
    allow.add('POST');
  }
  if (allow.size > 0) {
    throw new MethodNotAllowedError(`${request.method} is not allowed on ${request.path}`, [...allow]);
  }
  throw new NoRouteError(`No route for ${request.method} ${request.path}`);
};
