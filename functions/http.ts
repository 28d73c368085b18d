import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { config } from '#lib/config.ts';
import { MIDDY_OPTIONS } from '#lib/deadline.ts';
import { albResponse } from '#lib/http/alb.ts';
import { httpCorsOptions } from '#lib/http/cors.ts';
import { httpProblemDetails } from '#lib/http/problemDetails.ts';
import { redactHttpEvent } from '#lib/http/redact.ts';
import { type HttpEvent, toHttpRequest } from '#lib/http/request.ts';
import { logContext } from '#lib/logContext.ts';
import { measured } from '#lib/metrics.ts';
import { routes } from '#lib/routes/load.ts';
import { handleHttp } from '#lib/sources/http.ts';

// Validated at cold start: a bad routes file fails the deploy's first init, not a request.
const table = await routes();
const { corsAllowOrigins } = config();

const base = middy<HttpEvent, APIGatewayProxyResultV2>(MIDDY_OPTIONS)
  // First, so that it runs last: an ALB gets its own response shape, headers and problems included.
  .use(albResponse())
  .use(logContext(redactHttpEvent(table)))
  // onError runs in reverse order: the problem response exists before the headers are added to it.
  .use(httpSecurityHeaders());

// CORS only for the origins configured; preflight requests are answered without reaching Temporal.
const withCors = corsAllowOrigins.length > 0 ? base.use(httpCors(httpCorsOptions(corsAllowOrigins))) : base;

export const handler = withCors.use(httpProblemDetails()).handler((event, context) => {
  const invokedAt = Date.now();
  return measured('http', context, () => handleHttp(table, toHttpRequest(event), context, invokedAt));
});
