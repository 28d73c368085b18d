import type { Context, EventBridgeEvent } from 'aws-lambda';
import type { WorkflowResult } from '#lib/actions.ts';
import { NoRouteError, ValidationError } from '#lib/errors.ts';
import { fromEnvelope, fromRoute, withEventId } from '#lib/normalize/resolve.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { type ConditionsOf, condition, firstMatch } from '#lib/routes/conditions.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { JsonValue, Route } from '#lib/routes/schema.ts';
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

const rulesOf = (event: AnyEventBridgeEvent): string[] =>
  (event.resources ?? []).filter((arn) => arn.includes(':rule/')).map(ruleName);

/** What a schedule route asks of a scheduled rule's event: that its rule is one the event names. */
const scheduleConditions = (event: AnyEventBridgeEvent): ConditionsOf<Route> => {
  const rules = rulesOf(event);
  return ({ schedule }) => [
    condition(
      'rule',
      schedule?.rule,
      rules,
      rules.some((rule) => rule === schedule?.rule),
    ),
  ];
};

const fromSchedule = (routes: Routes, event: AnyEventBridgeEvent): WorkflowRequest => {
  const rules = rulesOf(event);
  const route = firstMatch(routes.schedule, scheduleConditions(event));
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

const scheduleOf = (scheduleArn: string | undefined) => SCHEDULE_ARN.exec(scheduleArn ?? '')?.groups;

/** What a scheduler route asks of a tick: its schedule's name, and its group. */
const schedulerConditions = (tick: SchedulerTick): ConditionsOf<Route> => {
  const schedule = scheduleOf(tick.scheduleArn);
  return ({ scheduler }) => [
    condition('name', scheduler?.name, schedule?.name),
    condition('group', scheduler?.group ?? 'default', schedule?.group),
  ];
};

/**
 * A Scheduler tick is routed by its schedule's name and group. Its workflow ID defaults to
 * `<type>-<group>-<name>-<scheduled time>`, and its request ID is keyed by the schedule and the
 * scheduled time, never by the execution ID, which changes with every attempt.
 */
const fromScheduler = (routes: Routes, tick: SchedulerTick): WorkflowRequest => {
  const { scheduleArn, time } = tick;
  const parsed = scheduleOf(scheduleArn);
  if (parsed === undefined || scheduleArn === undefined) {
    throw new ValidationError('A Scheduler event without the ARN of a schedule');
  }
  const { group = '', name = '' } = parsed;
  const route = firstMatch(routes.scheduler, schedulerConditions(tick));
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

/** Each field a route names in `detail`, held with an equal value; an empty pattern still asks for an object. */
const detailConditions = (expected: Record<string, JsonValue> | undefined, detail: unknown) => {
  if (expected === undefined) return [];
  const fields = Object.entries(expected);
  if (fields.length === 0) return [condition('detail', expected, detail, isObject(detail))];
  return fields.map(([key, value]) => {
    const held = isObject(detail) && Object.hasOwn(detail, key);
    return condition(
      `detail.${key}`,
      value,
      held ? detail[key] : undefined,
      held && matches(value, detail[key]),
    );
  });
};

/** What an eventbridge route asks of a custom event: its source, its detail-type, and detail fields. */
const eventConditions =
  (event: AnyEventBridgeEvent): ConditionsOf<Route> =>
  ({ eventbridge }) => [
    condition('source', eventbridge?.source, event.source),
    condition('detail-type', eventbridge?.detailType, event['detail-type']),
    ...detailConditions(eventbridge?.detail, event.detail),
  ];

const fromEvent = (routes: Routes, event: AnyEventBridgeEvent): WorkflowRequest => {
  const identity = { name: 'event ID', value: text(event.id) };
  const route = firstMatch(routes.eventbridge, eventConditions(event));
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
 * An input of the eventbridge function, told apart by its shape: a Scheduler tick (its default payload,
 * or a target input that names its schedule), a scheduled rule's event, a custom event, or else a
 * Scheduler target input that can only be the canonical envelope.
 */
type EventBridgeInput =
  | { readonly trigger: 'scheduler'; readonly tick: SchedulerTick }
  | { readonly trigger: 'schedule' | 'eventbridge'; readonly event: AnyEventBridgeEvent }
  | { readonly trigger: undefined; readonly input: unknown };

const inputOf = (event: unknown): EventBridgeInput => {
  if (isEventBridgeEvent(event)) {
    if (isSchedulerEvent(event)) {
      const tick = { scheduleArn: text(event.resources?.[0]), time: text(event.time), detail: event.detail };
      return { trigger: 'scheduler', tick };
    }
    return { trigger: isScheduledEvent(event) ? 'schedule' : 'eventbridge', event };
  }
  if (isObject(event) && 'scheduleArn' in event) {
    const tick = {
      scheduleArn: text(event.scheduleArn),
      time: text(event.scheduledTime),
      detail: event.detail,
    };
    return { trigger: 'scheduler', tick };
  }
  return { trigger: undefined, input: event };
};

/** Whose routes an input of the eventbridge function is matched against; undefined: only the envelope's. */
export const eventBridgeTriggerOf = (event: unknown): EventBridgeInput['trigger'] => inputOf(event).trigger;

/** What a route of that trigger asks of the input: how it is matched, and what a route that did not match failed. */
export const eventBridgeConditions = (event: unknown): ConditionsOf<Route> => {
  const input = inputOf(event);
  if (input.trigger === 'scheduler') return schedulerConditions(input.tick);
  if (input.trigger === 'schedule') return scheduleConditions(input.event);
  if (input.trigger === 'eventbridge') return eventConditions(input.event);
  return () => [];
};

/**
 * Builds the start request for an EventBridge event: scheduled rules by rule name, Scheduler ticks by
 * schedule name and group, custom events by source and detail-type, else a canonical envelope in
 * `detail`. Input that is not an EventBridge event at all is a Scheduler target input: either one that
 * names its schedule (`scheduleArn` and `scheduledTime`, from Scheduler's context attributes), routed
 * like the default payload, or the canonical envelope itself.
 */
export const normalizeEventBridge = (routes: Routes, event: unknown): WorkflowRequest => {
  const input = inputOf(event);
  if (input.trigger === 'scheduler') return fromScheduler(routes, input.tick);
  if (input.trigger !== undefined) {
    const request =
      input.trigger === 'schedule' ? fromSchedule(routes, input.event) : fromEvent(routes, input.event);
    const id = text(input.event.id);
    return id === undefined ? request : withEventId(request, id);
  }
  const envelope = envelopeOf(input.input);
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
