import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '#lib/logger.ts';
import { routes } from '#lib/routes/load.ts';
import { processSqsBatch } from '#lib/sqsBatch.ts';

const table = await routes();

// Failed records are reported as batchItemFailures (ReportBatchItemFailures), even when all of them fail.
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event, context) => processSqsBatch(table, event, context));
