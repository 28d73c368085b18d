import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { deadlineFrom } from '#lib/deadline.ts';
import { httpProblemDetails } from '#lib/http/problemDetails.ts';
import { startedResponse } from '#lib/http/response.ts';
import { logger } from '#lib/logger.ts';
import { type HttpEvent, normalizeHttp, toHttpRequest } from '#lib/normalize/http.ts';
import { routes } from '#lib/routes/load.ts';
import { startWorkflow } from '#lib/start.ts';

// Validated at cold start: a bad routes file fails the deploy's first init, not a request.
const table = routes();

export const handler = middy<HttpEvent, APIGatewayProxyResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(httpProblemDetails())
  .handler(async (event, context) => {
    const request = normalizeHttp(table, toHttpRequest(event));
    return startedResponse(await startWorkflow(request, deadlineFrom(context)));
  });
