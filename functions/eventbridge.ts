import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { deadlineFrom } from '#lib/deadline.ts';
import { logFailure } from '#lib/failure.ts';
import { logContext } from '#lib/logContext.ts';
import { normalizeEventBridge } from '#lib/normalize/eventbridge.ts';
import { routes } from '#lib/routes/load.ts';
import { type StartResult, startWorkflow } from '#lib/start.ts';

const table = await routes();

const eventId = (event: unknown, context: Context): string =>
  typeof (event as { id?: unknown })?.id === 'string' ? (event as { id: string }).id : context.awsRequestId;

// Failures are logged, then thrown, so Lambda's async retries and the on-failure destination apply.
export const handler = middy<unknown, StartResult>()
  .use(logContext())
  .handler(async (event, context) => {
    try {
      return await startWorkflow(normalizeEventBridge(table, event), deadlineFrom(context));
    } catch (error) {
      logFailure(error, eventId(event, context));
      throw error;
    }
  });
