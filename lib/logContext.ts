import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import { logger } from '#lib/logger.ts';

/**
 * The logger's middlewares, the same in every function: the Lambda context in every line, keys reset
 * per invocation, and, when POWERTOOLS_LOGGER_LOG_EVENT asks for it, the event, logged by us rather than
 * by Powertools so that `redact` runs first (the http function hides credential-bearing headers).
 */
export const logContext = <TEvent>(
  redact: (event: TEvent) => unknown = (event) => event,
): MiddlewareObj<TEvent, unknown>[] => [
  injectLambdaContext(logger, { resetKeys: true, logEvent: false }) as MiddlewareObj<TEvent, unknown>,
  {
    before: (request) => {
      if (logger.shouldLogEvent()) logger.info('Lambda invocation event', { event: redact(request.event) });
    },
  },
];
