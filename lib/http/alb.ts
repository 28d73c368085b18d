import type { MiddlewareObj } from '@middy/core';
import type { ALBEvent, ALBResult, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { HttpEvent } from './request.ts';

/*
 * Application Load Balancer target events: the HTTP contract is the API Gateway one, and only the
 * envelope differs. An ALB passes the query string undecoded, and expects its own response shape,
 * with `multiValueHeaders` in place of `headers` when the target group has multi-value headers on.
 * middy has no ALB middleware, hence these.
 */

export const isAlbEvent = (event: HttpEvent): event is ALBEvent =>
  (event.requestContext as { elb?: unknown } | undefined)?.elb !== undefined;

/**
 * The reason phrases of the statuses the function answers with (RFC 9110), for an ALB's
 * `statusDescription`. A table of its own: node:http's STATUS_CODES would load node:http at cold start.
 */
const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The target group's multi-value headers setting shows in the event: it then holds only the multi-value maps. */
const multiValue = (event: ALBEvent): boolean => event.multiValueHeaders !== undefined;

/** An API Gateway style response in an ALB's shape (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html). */
export const toAlbResult = (response: APIGatewayProxyResultV2, multi: boolean): ALBResult => {
  const structured = typeof response === 'string' ? { statusCode: 200, body: response } : response;
  const statusCode = structured.statusCode ?? 200;
  const headers = Object.fromEntries(
    Object.entries(structured.headers ?? {}).map(([name, value]) => [name, String(value)]),
  );
  return {
    statusCode,
    statusDescription: `${statusCode} ${REASONS[statusCode] ?? ''}`.trim(),
    ...(multi
      ? {
          multiValueHeaders: Object.fromEntries(
            Object.entries(headers).map(([name, value]) => [name, [value]]),
          ),
        }
      : { headers }),
    body: structured.body ?? '',
    isBase64Encoded: structured.isBase64Encoded ?? false,
  };
};

/**
 * Answers an ALB in its own shape, however the invocation ended. Use it first, so that it runs last,
 * after the problem response and the CORS and security headers are in place.
 */
export const albResponse = (): MiddlewareObj<HttpEvent, APIGatewayProxyResultV2> => {
  const reshape: NonNullable<MiddlewareObj<HttpEvent, APIGatewayProxyResultV2>['after']> = async (
    request,
  ) => {
    const { event, response } = request;
    if (response === undefined || response === null || !isAlbEvent(event)) return;
    request.response = toAlbResult(response, multiValue(event)) as APIGatewayProxyResultV2;
  };
  return { after: reshape, onError: reshape };
};
