import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { performEventAction, type WorkflowResult } from '#lib/actions.ts';
import { logFailure } from '#lib/failure.ts';
import { logContext } from '#lib/logContext.ts';
import { normalizeEventBridge } from '#lib/normalize/eventbridge.ts';
import { routes } from '#lib/routes/load.ts';

const table = await routes();

const eventId = (event: unknown, context: Context): string =>
  typeof (event as { id?: unknown })?.id === 'string' ? (event as { id: string }).id : context.awsRequestId;

// Failures are logged, then thrown, so Lambda's async retries and the on-failure destination apply.
export const handler = middy<unknown, WorkflowResult>()
  .use(logContext())
  .handler(async (event, context) => {
    try {
      return await performEventAction(normalizeEventBridge(table, event), context);
    } catch (error) {
      logFailure(error, eventId(event, context));
      throw error;
    }
  });
