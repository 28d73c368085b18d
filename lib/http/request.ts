import { createHash } from 'node:crypto';
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { decodeUrlComponent, parseJson } from '#lib/encoding.ts';
import {
  MethodNotAllowedError,
  NoRouteError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '#lib/errors.ts';
import { callerScope } from '#lib/normalize/callerScope.ts';
import { fromEnvelope, fromRoute } from '#lib/normalize/resolve.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { type Condition, condition } from '#lib/routes/conditions.ts';
import type { HttpRoute, Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import { fromTraceparent } from '#lib/trace/context.ts';
import { isAlbEvent } from './alb.ts';
import { OPENAPI_PATH } from './openapiPath.ts';
import { signatureHeaderOf } from './signatureHeader.ts';

/** An API Gateway request, the same whichever payload format carried it. */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased; repeated headers joined with ", " (cookies with "; "). */
  readonly headers: Readonly<Record<string, string>>;
  /** Repeated parameters joined with ",", as payload 2.0 does. */
  readonly query: Readonly<Record<string, string>>;
  readonly cookies: Readonly<Record<string, string>>;
  /** The body's bytes, base64-decoded when API Gateway encoded them: what a webhook signature covers. */
  readonly rawBody: Buffer | undefined;
  /** API Gateway's request ID; events of other shapes may have none. */
  readonly requestId: string | undefined;
  /**
   * The authenticated caller, as API Gateway's authorizer vouches for it: `iam:<principal ARN>` (IAM,
   * SigV4), or `jwt:<issuer>|<sub>` (a JWT, or a Cognito user pool's claims). Undefined without one.
   */
  readonly caller: string | undefined;
}

/** API Gateway's HTTP API (payload 2.0, as Lambda Function URLs send it too) and REST API, and an ALB's. */
export type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent | ALBEvent;

const isV2 = (event: HttpEvent): event is APIGatewayProxyEventV2 =>
  (event as APIGatewayProxyEventV2).version === '2.0';

type Values = Record<string, string | readonly string[] | undefined> | null | undefined;

/** Lower-cases names and joins repeated values, whether repeats come as arrays or as differently-cased names. */
const headerMap = (record: Values): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const [name, raw] of Object.entries(record ?? {})) {
    if (raw === undefined) continue;
    const key = name.toLowerCase();
    const separator = key === 'cookie' ? '; ' : ', ';
    const value = typeof raw === 'string' ? raw : raw.join(separator);
    result[key] = result[key] === undefined ? value : `${result[key]}${separator}${value}`;
  }
  return result;
};

const queryMap = (
  record: Values,
  decode: (text: string) => string = (text) => text,
): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const [name, raw] of Object.entries(record ?? {})) {
    if (raw !== undefined) {
      result[decode(name)] = typeof raw === 'string' ? decode(raw) : raw.map(decode).join(',');
    }
  }
  return result;
};

/** `a=1; b=2` → `{a: '1', b: '2'}`; the first of repeated names wins, as browsers send the most specific first. */
const parseCookies = (header: string | undefined): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const pair of (header ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    if (name !== '' && !Object.hasOwn(result, name)) result[name] = pair.slice(at + 1).trim();
  }
  return result;
};

const rawBodyOf = (body: string | null | undefined, isBase64Encoded: boolean): Buffer | undefined => {
  if (body === null || body === undefined || body === '') return undefined;
  return Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');
};

const withCookies = (
  request: Omit<HttpRequest, 'cookies'>,
  cookies: readonly string[] | undefined,
): HttpRequest => {
  // Payload 2.0 moves Cookie headers into `cookies`; put them back so both formats read alike.
  const headers =
    cookies && cookies.length > 0 ? { ...request.headers, cookie: cookies.join('; ') } : request.headers;
  return { ...request, headers, cookies: parseCookies(headers.cookie) };
};

type Claims = Readonly<Record<string, unknown>> | undefined;

const jwtCaller = (claims: Claims): string | undefined => {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub === '') return undefined;
  return `jwt:${typeof claims?.iss === 'string' ? claims.iss : ''}|${sub}`;
};

const iamCaller = (arn: unknown): string | undefined =>
  typeof arn === 'string' && arn !== '' ? `iam:${arn}` : undefined;

/** Who API Gateway's authorizer says sent the request (payload 2.0 and 1.0 keep it in different places). */
const callerOf = (event: APIGatewayProxyEventV2 | APIGatewayProxyEvent): string | undefined => {
  if (isV2(event)) {
    const authorizer = (
      event.requestContext as { authorizer?: { iam?: { userArn?: unknown }; jwt?: { claims?: Claims } } }
    ).authorizer;
    return iamCaller(authorizer?.iam?.userArn) ?? jwtCaller(authorizer?.jwt?.claims);
  }
  const { identity, authorizer } = event.requestContext ?? {};
  return iamCaller(identity?.userArn) ?? jwtCaller((authorizer as { claims?: Claims } | null)?.claims);
};

/**
 * Normalizes HTTP API (payload 2.0, and Lambda Function URLs), REST API (payload 1.0) and ALB events
 * into one shape. An ALB's event is 1.0's without the request context, and its query undecoded.
 */
export const toHttpRequest = (event: HttpEvent): HttpRequest => {
  if (isV2(event)) {
    const { stage, http, requestId } = event.requestContext;
    // rawPath carries the stage name for every stage but $default.
    const prefix = stage && stage !== '$default' ? `/${stage}` : '';
    const path =
      prefix && event.rawPath.startsWith(`${prefix}/`) ? event.rawPath.slice(prefix.length) : event.rawPath;
    const request = {
      method: http.method.toUpperCase(),
      path,
      headers: headerMap(event.headers),
      query: queryMap(event.queryStringParameters),
      rawBody: rawBodyOf(event.body, event.isBase64Encoded),
      requestId: requestId || undefined,
      caller: callerOf(event),
    };
    return withCookies(request, event.cookies);
  }
  const alb = isAlbEvent(event);
  const rest = alb ? undefined : (event as APIGatewayProxyEvent);
  // multiValueHeaders holds every header, repeats included; headers keeps only the last of each.
  const multi = event.multiValueHeaders && Object.keys(event.multiValueHeaders).length > 0;
  const multiQuery = event.multiValueQueryStringParameters;
  const request = {
    method: event.httpMethod.toUpperCase(),
    path: event.path,
    headers: headerMap(multi ? event.multiValueHeaders : event.headers),
    query: queryMap(
      multiQuery && Object.keys(multiQuery).length > 0 ? multiQuery : event.queryStringParameters,
      alb ? decodeUrlComponent : undefined,
    ),
    rawBody: rawBodyOf(event.body, event.isBase64Encoded),
    // An ALB vouches for no caller and gives no request ID.
    requestId: rest?.requestContext?.requestId || undefined,
    caller: rest && callerOf(rest),
  };
  return withCookies(request, undefined);
};

/** What a request asks for: a route, a start through the canonical envelope, or a workflow's status. */
export type HttpTarget =
  | {
      readonly kind: 'route';
      readonly route: Route;
      readonly path: Readonly<Record<string, string>>;
      /** Credential-bearing headers the route's templates name, and may therefore read. */
      readonly namedHeaders: ReadonlySet<string>;
    }
  | { readonly kind: 'envelope'; readonly workflowType: string }
  | { readonly kind: 'status'; readonly workflowId: string }
  | { readonly kind: 'openapi' };

/** What starts, signals or updates a workflow: a route, or the canonical envelope. */
export type ActionTarget = Extract<HttpTarget, { kind: 'route' | 'envelope' }>;

/** A path segment, percent-decoded; kept as sent when its encoding is broken. */
const decodeSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

const CANONICAL_PATH = /^\/workflows\/(?<segment>[^/]+)\/?$/;

/** What an HTTP route asks of a request: a path its pattern matches, and its method. */
export const httpConditions =
  (request: Pick<HttpRequest, 'method' | 'path'>) =>
  ({ route, method, pattern }: HttpRoute): readonly [path: Condition, method: Condition] => [
    condition('path', route.http?.path, request.path, pattern.test(request.path)),
    condition('method', method, request.method),
  ];

/**
 * `GET /openapi.json` first when the document is served (as API Gateway routes that literal path before
 * a templated one); then routes, in file order; then `POST /workflows/{workflowType}` and
 * `GET /workflows/{workflowId}`.
 */
export const matchHttp = (
  routes: Routes,
  request: HttpRequest,
  { openapi = false }: { readonly openapi?: boolean } = {},
): HttpTarget => {
  const served = openapi && request.path === OPENAPI_PATH;
  if (served && request.method === 'GET') return { kind: 'openapi' };
  const allow = new Set<string>(served ? ['GET'] : []);
  const conditionsOf = httpConditions(request);
  for (const compiled of routes.http) {
    const [path, method] = conditionsOf(compiled);
    if (!path.met) continue;
    if (!method.met) {
      allow.add(compiled.method);
      continue;
    }
    const { route, pattern, namedHeaders } = compiled;
    const params = Object.fromEntries(
      Object.entries(pattern.exec(request.path)?.groups ?? {}).map(([name, value]) => [
        name,
        decodeSegment(value),
      ]),
    );
    return { kind: 'route', route, path: params, namedHeaders };
  }
  const segment = CANONICAL_PATH.exec(request.path)?.groups?.segment;
  if (segment !== undefined) {
    if (request.method === 'POST') return { kind: 'envelope', workflowType: decodeSegment(segment) };
    if (request.method === 'GET') return { kind: 'status', workflowId: decodeSegment(segment) };
    allow.add('POST').add('GET');
  }
  if (allow.size > 0) {
    throw new MethodNotAllowedError(`${request.method} is not allowed on ${request.path}`, [...allow]);
  }
  throw new NoRouteError(`No route for ${request.method} ${request.path}`);
};

/** `application/json`, `application/problem+json`, with or without parameters. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * Checks a body before anything reads it: its size (413), then its declared type (415). A body
 * without a Content-Type is read as JSON, so plain API clients work; one declared as something
 * else (a form post, text) is refused rather than guessed at.
 */
export const checkBody = (request: HttpRequest, maxBodyBytes: number): void => {
  const size = request.rawBody?.length ?? 0;
  if (size > maxBodyBytes) {
    throw new PayloadTooLargeError(`The body is ${size} bytes; the limit is ${maxBodyBytes}`);
  }
  const type = request.headers['content-type'];
  if (size > 0 && type !== undefined && !JSON_MEDIA_TYPE.test(type)) {
    throw new UnsupportedMediaTypeError(`Content-Type must be application/json, got "${type}"`);
  }
};

const parseBody = (body: Buffer | undefined): unknown =>
  body === undefined ? undefined : parseJson(body.toString('utf8'), 'The request body');

/**
 * Headers that carry credentials. They never reach a workflow's input through the `headers` root, where
 * they would live on in Temporal's history, unless a route's template names one explicitly; the
 * route's webhook signature header is one of them. They are redacted when the event is logged.
 */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
]);

/** The `headers` template root: the request's headers less the credentials the route does not name. */
const templateHeaders = (
  headers: Readonly<Record<string, string>>,
  target: Extract<HttpTarget, { kind: 'route' }>,
): Record<string, string> => {
  const signature = target.route.http?.signature;
  const hidden = (name: string) =>
    (CREDENTIAL_HEADERS.has(name) || name === signatureHeaderOf(signature)) && !target.namedHeaders.has(name);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hidden(name)));
};

/**
 * What a retried request keeps: its Idempotency-Key, else API Gateway's request ID. A key is scoped to
 * the authenticated caller, so that two callers who pick the same key name two workflows.
 */
const identityOf = ({ headers, requestId, caller }: HttpRequest) => {
  const key = headers['idempotency-key'];
  if (!key) return { name: 'Idempotency-Key header or request ID', value: requestId };
  return {
    name: 'Idempotency-Key header',
    value: caller === undefined ? key : `${callerScope(caller)}-${key}`,
  };
};

/**
 * What a reused Idempotency-Key is compared by (the IETF httpapi Idempotency-Key draft's request
 * fingerprint): a digest of the method, the path and the body's bytes as they came.
 */
const fingerprintOf = ({ method, path, rawBody }: HttpRequest): string =>
  createHash('sha256')
    .update(`${method}\0${path}\0`)
    .update(rawBody ?? Buffer.alloc(0))
    .digest('base64url');

/** The request for a route or the canonical envelope: parses the body and renders templates. */
export const workflowRequestOf = (
  routes: Routes,
  target: ActionTarget,
  request: HttpRequest,
): WorkflowRequest => {
  const { headers, query, cookies, requestId, caller } = request;
  // A retried POST that carries the same Idempotency-Key names the same workflow.
  const identity = identityOf(request);
  const body = parseBody(request.rawBody);
  const acted =
    target.kind === 'route'
      ? fromRoute(
          routes,
          target.route,
          { body, headers: templateHeaders(headers, target), query, cookies, path: target.path, requestId },
          identity,
        )
      : fromEnvelope(routes, { workflowType: target.workflowType, input: body }, identity);
  // A request that carries an Idempotency-Key delivers its signal or update once however often it is
  // sent, and a start remembers which request it was, so a reused key is told apart from a retry.
  const key = headers['idempotency-key'];
  const keyed = key
    ? { ...acted, idempotencyKey: identity.value, idempotency: { key, fingerprint: fingerprintOf(request) } }
    : acted;
  // The caller's W3C trace, continued by the workflow's spans.
  const trace = fromTraceparent(headers.traceparent, headers.tracestate);
  const traced = trace === undefined ? keyed : { ...keyed, trace };
  return caller === undefined ? traced : { ...traced, scope: callerScope(caller) };
};
