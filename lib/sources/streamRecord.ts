import { fromRoute, type Identity, withEventId } from '#lib/normalize/resolve.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import type { TemplateContext } from '#lib/routes/template.ts';

/** Epoch seconds, as the stream records say when a record arrived, in epoch milliseconds. */
export const secondsToMs = (seconds: number | undefined): number | undefined => {
  const ms = (seconds ?? Number.NaN) * 1000;
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * The request of a stream record that matched `route`: rendered like any route's, sent when the record
 * arrived in the stream, and keyed by `eventId` (its stream's ARN and the record's ID), which Lambda
 * delivers unchanged on every retry, so a redelivered record is the same request to Temporal.
 */
export const fromStreamRecord = (
  routes: Routes,
  route: Route,
  context: TemplateContext,
  identity: Identity,
  record: { readonly eventId: string; readonly arrivedAtSeconds: number | undefined },
): WorkflowRequest =>
  withEventId(
    fromRoute(routes, route, context, identity, secondsToMs(record.arrivedAtSeconds)),
    record.eventId,
  );
