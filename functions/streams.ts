import middy from '@middy/core';
import { MIDDY_OPTIONS } from '#lib/deadline.ts';
import { logContext } from '#lib/logContext.ts';
import { measured } from '#lib/metrics.ts';
import { routes } from '#lib/routes/load.ts';
import { processStreamBatch, type StreamBatchResponse, type StreamEvent } from '#lib/sources/streams.ts';

const table = await routes();

// Failed records are reported by sequence number (ReportBatchItemFailures), with every later record of
// their shard: Lambda retries the shard from the first of them.
export const handler = middy<StreamEvent, StreamBatchResponse>(MIDDY_OPTIONS)
  .use(logContext())
  .handler((event, context) => measured('streams', context, () => processStreamBatch(table, event, context)));
