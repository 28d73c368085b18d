import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { isTriggerError } from '#lib/errors.ts';
import { logFailure } from '#lib/failure.ts';
import type { HttpEvent } from '#lib/http/request.ts';
import { problemResponse } from './response.ts';

/**
 * Turns any error into an RFC 9457 `application/problem+json` response, after logging it once: at WARN
 * for a client error the caller has been told of, at ERROR for everything else.
 * middy's http-error-handler answers in text/plain and knows nothing of permanent or transient
 * failures, hence this one.
 */
export const httpProblemDetails = (): MiddlewareObj<HttpEvent, APIGatewayProxyResultV2> => {
  const httpProblemDetailsOnError: MiddlewareObj<HttpEvent, APIGatewayProxyResultV2>['onError'] = async (
    request,
  ) => {
    if (request.response !== undefined) return;
    const requestId =
      (request.event.requestContext as { requestId?: string } | undefined)?.requestId ??
      request.context.awsRequestId;
    const { error } = request;
    logFailure(error, requestId, isTriggerError(error) && error.expose ? 'warn' : 'error');
    request.response = problemResponse(error, requestId);
  };
  return { onError: httpProblemDetailsOnError };
};
