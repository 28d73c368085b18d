import { fromRoute, type Identity, withEventId } from '#lib/normalize/resolve.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import type { TemplateContext } from '#lib/routes/template.ts';

/**
 * A stream record's identity, in logs and for request IDs: its stream's ARN and its event ID, which Lambda
 * delivers unchanged on every retry (a Kinesis event ID, `shardId-…:<sequence number>`, is unique within
 * its stream only).
 */
export const streamEventId = (record: {
  readonly eventSourceARN?: string | undefined;
  readonly eventID?: string | undefined;
}): string => `${record.eventSourceARN ?? ''}/${record.eventID ?? ''}`;

/** Epoch seconds, as the stream records say when a record arrived, in epoch milliseconds. */
export const secondsToMs = (seconds: number | undefined): number | undefined => {
  const ms = (seconds ?? Number.NaN) * 1000;
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * The request of a stream record that matched `route`: rendered like any route's, sent when the record
 * arrived in the stream, and keyed by its streamEventId, so a redelivered record is the same request to
 * Temporal.
 */
export const fromStreamRecord = (
  routes: Routes,
  route: Route,
  context: TemplateContext,
  identity: Identity,
  record: { readonly eventSourceARN?: string | undefined; readonly eventID?: string | undefined },
  arrivedAtSeconds: number | undefined,
): WorkflowRequest =>
  withEventId(
    fromRoute(routes, route, context, identity, secondsToMs(arrivedAtSeconds)),
    streamEventId(record),
  );
