import middy from '@middy/core';
import type { WorkflowResult } from '#lib/actions.ts';
import { MIDDY_OPTIONS } from '#lib/deadline.ts';
import { logContext } from '#lib/logContext.ts';
import { measured } from '#lib/metrics.ts';
import { routes } from '#lib/routes/load.ts';
import { handleEventBridge } from '#lib/sources/eventbridge.ts';
import { acknowledgeS3Test, handleS3, isS3Event, isS3TestEvent } from '#lib/sources/s3.ts';
import { handleSns, isSnsEvent } from '#lib/sources/sns.ts';

const table = await routes();

/**
 * The asynchronous sources: EventBridge events and schedules, SNS messages and S3 event notifications,
 * told apart by their shape. Failures are logged, then thrown, so Lambda's async retries and the
 * on-failure destination apply.
 */
export const handler = middy<unknown, WorkflowResult | WorkflowResult[]>(MIDDY_OPTIONS)
  .use(logContext())
  .handler((event, context) => {
    if (isSnsEvent(event)) return measured('sns', context, () => handleSns(table, event, context));
    if (isS3Event(event)) return measured('s3', context, () => handleS3(table, event, context));
    if (isS3TestEvent(event)) return Promise.resolve(acknowledgeS3Test());
    return measured('eventbridge', context, () => handleEventBridge(table, event, context));
  });
