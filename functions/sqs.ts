import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { MIDDY_OPTIONS } from '#lib/deadline.ts';
import { logContext } from '#lib/logContext.ts';
import { measured } from '#lib/metrics.ts';
import { routes } from '#lib/routes/load.ts';
import { processSqsBatch } from '#lib/sources/sqs.ts';

const table = await routes();

// Failed records are reported as batchItemFailures (ReportBatchItemFailures), even when all of them fail.
export const handler = middy<SQSEvent, SQSBatchResponse>(MIDDY_OPTIONS)
  .use(logContext())
  .handler((event, context) => measured('sqs', context, () => processSqsBatch(table, event, context)));
