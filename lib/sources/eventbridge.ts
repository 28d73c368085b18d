import type { Context, EventBridgeEvent } from 'aws-lambda';
import type { WorkflowResult } from '#lib/actions.ts';
import { NoRouteError, ValidationError } from '#lib/errors.ts';
import { fromEnvelope, fromRoute, withEventId } from '#lib/normalize/resolve.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import type { Routes } from '#lib/routes/model.ts';
import { actOnEvent } from './event.ts';

/*
 * The EventBridge source: a custom event, a scheduled rule's event or an EventBridge Scheduler
 * invocation in, one request out; the action's result is the invocation's result, and a failure is
 * thrown, so Lambda's asynchronous retries and the on-failure destination apply.
 */

type AnyEventBridgeEvent = EventBridgeEvent<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** An EventBridge event has its envelope; an EventBridge Scheduler target input may be anything. */
const isEventBridgeEvent = (event: unknown): event is AnyEventBridgeEvent =>
  isObject(event) && typeof event.source === 'string' && typeof event['detail-type'] === 'string';

const isScheduledEvent = (event: AnyEventBridgeEvent): boolean =>
  event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event';

/** The payload EventBridge Scheduler sends a Lambda target when the schedule sets no input. */
const isSchedulerEvent = (event: AnyEventBridgeEvent): boolean =>
  event.source === 'aws.scheduler' && event['detail-type'] === 'Scheduled Event';

/** `arn:aws:events:us-east-1:123456789012:rule/[bus-name/]nightly-report` → `nightly-report` */
const ruleName = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

type Envelope = { workflowType: unknown; workflowId?: unknown; input?: unknown };

const envelopeOf = (value: unknown): Envelope | undefined =>
  isObject(value) && 'workflowType' in value ? (value as Envelope) : undefined;

const fromSchedule = (routes: Routes, event: AnyEventBridgeEvent): WorkflowRequest => {
  const rules = (event.resources ?? []).filter((arn) => arn.includes(':rule/')).map(ruleName);
  const route = routes.schedule.find(
    ({ schedule }) => schedule !== undefined && rules.includes(schedule.rule),
  );
  if (route === undefined)
    throw new NoRouteError(`No route for scheduled rule ${rules.join(', ') || '(none)'}`);
  const rule = route.schedule?.rule;
  const time = text(event.time);
  // A tick is named by its rule and time: a redelivered tick names the same workflow.
  return fromRoute(
    routes,
    route,
    { time, rule, id: event.id },
    {
      name: 'time',
      value: time && `${rule}-${time}`,
    },
  );
};

/** `arn:aws:scheduler:us-east-1:123456789012:schedule/<group>/<name>` */
const SCHEDULE_ARN = /^arn:aws[a-z-]*:scheduler:[^:]*:[^:]*:schedule\/(?<group>[^/]+)\/(?<name>[^/]+)$/;

/** What identifies one tick of an EventBridge Scheduler schedule, however it reached the function. */
interface SchedulerTick {
  readonly scheduleArn: string | undefined;
  /** The time the tick was scheduled for: the same for every attempt of one tick. */
  readonly time: string | undefined;
  readonly detail: unknown;
}

/** A `detail` that Scheduler sends as a JSON string ("{}") is read as the JSON it holds. */
const parsedDetail = (detail: unknown): unknown => {
  if (typeof detail !== 'string') return detail;
  try {
    return JSON.parse(detail);
  } catch {
    return detail;
  }
};

/**
 * A Scheduler tick is routed by its schedule's name and group. Its workflow ID defaults to
 * `<type>-<group>-<name>-<scheduled time>`, and its request ID is keyed by the schedule and the
 * scheduled time, never by the execution ID, which changes with every attempt.
 */
const fromScheduler = (routes: Routes, tick: SchedulerTick): WorkflowRequest => {
  const { scheduleArn, time } = tick;
  const parsed = SCHEDULE_ARN.exec(scheduleArn ?? '')?.groups;
  if (parsed === undefined || scheduleArn === undefined) {
    throw new ValidationError('A Scheduler event without the ARN of a schedule');
  }
  const { group = '', name = '' } = parsed;
  const route = routes.scheduler.find(
    ({ scheduler }) => scheduler?.name === name && (scheduler.group ?? 'default') === group,
  );
  if (route === undefined) throw new NoRouteError(`No route for Scheduler schedule ${group}/${name}`);
  if (time === undefined) throw new ValidationError(`A tick of schedule ${group}/${name} without its time`);
  const context = { time, name, group, scheduleArn, detail: parsedDetail(tick.detail) };
  const request = fromRoute(routes, route, context, {
    name: 'scheduled time',
    value: `${group}-${name}-${time}`,
  });
  return withEventId(request, `${scheduleArn}@${time}`);
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

const normalizeEvent = (routes: Routes, event: AnyEventBridgeEvent): WorkflowRequest => {
  if (isScheduledEvent(event)) return fromSchedule(routes, event);
  const identity = { name: 'event ID', value: text(event.id) };

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
    return fromRoute(routes, route, context, identity, Date.parse(time) || undefined);
  }
  const envelope = envelopeOf(event.detail);
  if (envelope === undefined) {
    throw new NoRouteError(`No route for source "${event.source}" and detail-type "${event['detail-type']}"`);
  }
  return fromEnvelope(routes, envelope, identity);
};

/**
 * Builds the start request for an EventBridge event: scheduled rules by rule name, Scheduler ticks by
 * schedule name and group, custom events by source and detail-type, else a canonical envelope in
 * `detail`. Input that is not an EventBridge event at all is a Scheduler target input: either one that
 * names its schedule (`scheduleArn` and `scheduledTime`, from Scheduler's context attributes), routed
 * like the default payload, or the canonical envelope itself.
 */
export const normalizeEventBridge = (routes: Routes, event: unknown): WorkflowRequest => {
  if (isEventBridgeEvent(event)) {
    if (isSchedulerEvent(event)) {
      return fromScheduler(routes, {
        scheduleArn: text(event.resources?.[0]),
        time: text(event.time),
        detail: event.detail,
      });
    }
    const request = normalizeEvent(routes, event);
    const id = text(event.id);
    return id === undefined ? request : withEventId(request, id);
  }
  if (isObject(event) && 'scheduleArn' in event) {
    return fromScheduler(routes, {
      scheduleArn: text(event.scheduleArn),
      time: text(event.scheduledTime),
      detail: event.detail,
    });
  }
  const envelope = envelopeOf(event);
  if (envelope === undefined) {
    throw new ValidationError(
      'Not an EventBridge event, not a Scheduler input with "scheduleArn" and "scheduledTime", and not a {"workflowType", "workflowId", "input"} envelope',
    );
  }
  // The workflow ID is all that identifies a Scheduler tick here (it should hold
  // <aws.scheduler.scheduled-time>), so it also keys the request: a retried attempt of the tick is
  // then the same request to Temporal, whatever the reuse policy.
  const request = fromEnvelope(routes, envelope, undefined);
  return withEventId(request, request.workflowId);
};

const eventIdOf = (event: unknown, context: Context): string =>
  typeof (event as { id?: unknown })?.id === 'string' ? (event as { id: string }).id : context.awsRequestId;

/** Acts on one EventBridge event: its result, or the failure thrown after it was logged once. */
export const handleEventBridge = (
  routes: Routes,
  event: unknown,
  context: Context,
): Promise<WorkflowResult> =>
  actOnEvent(eventIdOf(event, context), () => normalizeEventBridge(routes, event), context);
