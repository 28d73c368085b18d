import middy from '@middy/core';
import type { WorkflowResult } from '#lib/actions.ts';
import { logContext } from '#lib/logContext.ts';
import { measured } from '#lib/metrics.ts';
import { routes } from '#lib/routes/load.ts';
import { handleEventBridge } from '#lib/sources/eventbridge.ts';

const table = await routes();

// Failures are logged, then thrown, so Lambda's async retries and the on-failure destination apply.
export const handler = middy<unknown, WorkflowResult>()
  .use(logContext())
  .handler((event, context) =>
    measured('eventbridge', context, () => handleEventBridge(table, event, context)),
  );
