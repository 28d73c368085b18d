import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deadlineFrom } from '#lib/deadline.ts';
import { logFailure } from '#lib/failure.ts';
import { logger } from '#lib/logger.ts';
import { normalizeSqsRecord } from '#lib/normalize/sqs.ts';
import { routes } from '#lib/routes/load.ts';
import { startWorkflow } from '#lib/start.ts';

const table = routes();
const processor = new BatchProcessor(EventType.SQS);

const startRecord = async (record: SQSRecord, context: Context): Promise<void> => {
  try {
    await startWorkflow(normalizeSqsRecord(table, record), deadlineFrom(context));
  } catch (error) {
    logFailure(error, record.messageId);
    throw error;
  }
};

// Failed records are reported as batchItemFailures (ReportBatchItemFailures), even when all of them fail.
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event, context) =>
    processPartialResponse(event, startRecord, processor, { context, throwOnFullBatchFailure: false }),
  );
