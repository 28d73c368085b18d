import type { EventBridgeEvent } from 'aws-lambda';
import { NoRouteError, ValidationError } from '#lib/errors.ts';
import type { Routes } from '#lib/routes/load.ts';
import { fromEnvelope, fromRoute, withEventId } from './resolve.ts';
import type { StartRequest } from './types.ts';

type AnyEventBridgeEvent = EventBridgeEvent<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** An EventBridge event has its envelope; an EventBridge Scheduler target input is just our canonical envelope. */
const isEventBridgeEvent = (event: unknown): event is AnyEventBridgeEvent =>
  isObject(event) && typeof event.source === 'string' && typeof event['detail-type'] === 'string';

const isScheduledEvent = (event: AnyEventBridgeEvent): boolean =>
  event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event';

/** `arn:aws:events:us-east-1:123456789012:rule/[bus-name/]nightly-report` → `nightly-report` */
const ruleName = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

type Envelope = { workflowType: unknown; workflowId?: unknown; input?: unknown };

const envelopeOf = (value: unknown): Envelope | undefined =>
  isObject(value) && 'workflowType' in value ? (value as Envelope) : undefined;

const fromSchedule = (routes: Routes, event: AnyEventBridgeEvent): StartRequest => {
  const rules = event.resources.filter((arn) => arn.includes(':rule/')).map(ruleName);
  const route = routes.schedule.find(
    ({ schedule }) => schedule !== undefined && rules.includes(schedule.rule),
  );
  if (route === undefined)
    throw new NoRouteError(`No route for scheduled rule ${rules.join(', ') || '(none)'}`);
  const rule = route.schedule?.rule;
  // A tick is named by its rule and time: a redelivered tick names the same workflow.
  return fromRoute(routes, route, { time: event.time, rule, id: event.id }, `${rule}-${event.time}`);
};

/** Every field of `expected` is in `actual` with an equal value; nested objects match the same way. */
const matches = (expected: unknown, actual: unknown): boolean => {
  if (isObject(expected)) {
    return (
      isObject(actual) &&
      Object.entries(expected).every(
        ([key, value]) => Object.hasOwn(actual, key) && matches(value, actual[key]),
      )
    );
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((value, index) => matches(value, actual[index]))
    );
  }
  return expected === actual;
};

const normalizeEvent = (routes: Routes, event: AnyEventBridgeEvent): StartRequest => {
  if (isScheduledEvent(event)) return fromSchedule(routes, event);

  const route = routes.eventbridge.find(
    ({ eventbridge }) =>
      eventbridge?.source === event.source &&
      eventbridge.detailType === event['detail-type'] &&
      (eventbridge.detail === undefined || matches(eventbridge.detail, event.detail)),
  );
  if (route !== undefined) {
    const { detail, source, id, time, account, region, resources } = event;
    const detailType = event['detail-type'];
    const context = { detail, source, detailType, id, time, account, region, resources };
    return fromRoute(routes, route, context, id);
  }
  const envelope = envelopeOf(event.detail);
  if (envelope === undefined) {
    throw new NoRouteError(`No route for source "${event.source}" and detail-type "${event['detail-type']}"`);
  }
  return fromEnvelope(routes, envelope, (type) => `${type}-${event.id}`);
};

/**
 * Builds the start request for an EventBridge event: scheduled rules by rule name, custom events by
 * source and detail-type, else a canonical envelope in `detail`. Input that is not an EventBridge event
 * at all (an EventBridge Scheduler target) must itself be the canonical envelope.
 */
export const normalizeEventBridge = (routes: Routes, event: unknown): StartRequest => {
  if (!isEventBridgeEvent(event)) {
    const envelope = envelopeOf(event);
    if (envelope === undefined) {
      throw new ValidationError(
        'Not an EventBridge event, and not a {"workflowType", "workflowId", "input"} envelope',
      );
    }
    // The workflow ID is all that identifies a Scheduler tick (it should hold
    // <aws.scheduler.scheduled-time>), so it also keys the request: a retried attempt of the tick is
    // then the same request to Temporal, whatever the reuse policy.
    const request = fromEnvelope(routes, envelope, undefined);
    return withEventId(request, request.workflowId);
  }
  return withEventId(normalizeEvent(routes, event), event.id);
};
