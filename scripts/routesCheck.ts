import type { EventBridgeEvent } from 'aws-lambda';
import { RoutesFileError } from '#lib/errors.ts';
import { httpConditions } from '#lib/http/request.ts';
import { PATH_PARAM } from '#lib/routes/compile.ts';
import { type ConditionsOf, firstMatch } from '#lib/routes/conditions.ts';
import type { HttpRoute, Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { dynamoDbConditions } from '#lib/sources/dynamodb.ts';
import { eventBridgeConditions, eventBridgeTriggerOf } from '#lib/sources/eventbridge.ts';
import { kinesisConditions } from '#lib/sources/kinesis.ts';
import { s3Conditions } from '#lib/sources/s3.ts';
import { snsConditions } from '#lib/sources/sns.ts';
import { sqsConditions } from '#lib/sources/sqs.ts';

/*
 * `npm run routes -- check`: a routes file's problems, as the build and a cold start find them
 * (compileRoutes), one a line; and, for a valid file, warnings about routes that can never match.
 */

export interface CheckResult {
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  /** The compiled routes, when the file is valid. */
  readonly routes?: Routes;
}

/**
 * A RoutesFileError's problems, one a line: compile.ts writes `✖ problem`, zod `✖ message` and then
 * `  → at path`. A message of another shape is kept whole, never lost.
 */
export const problemLines = (message: string): string[] => {
  const problems: string[] = [];
  for (const line of message.split('\n').slice(1)) {
    const at = /^\s*→ at (.+)$/.exec(line)?.[1];
    const last = problems.length - 1;
    if (at !== undefined && last >= 0) problems[last] = `${at}: ${problems[last]}`;
    else if (line.startsWith('✖ ')) problems.push(line.slice(2));
    else if (line.trim() !== '') problems.push(line.trim());
  }
  return problems.length > 0 ? problems : [message];
};

/** Text that no literal of a route holds: it stands for any value of a path parameter, key or event name. */
const ANY_SEGMENT = '\u0000';

type AnyEventBridgeEvent = Partial<EventBridgeEvent<string, unknown>> & Record<string, unknown>;

/**
 * The least event each route asks for: what its trigger names, and nothing more. Any event the route
 * matches holds at least that, so an earlier route that matches the least event matches every event
 * the later one would: the later one never matches. The conditions are the sources' own.
 */
const leastSqs = ({ sqs }: Route): ConditionsOf<Route> =>
  sqsConditions({
    eventSourceARN: `arn:aws:sqs:::${sqs?.queue}`,
    messageAttributes: Object.fromEntries(
      Object.entries(sqs?.attributes ?? {}).map(([name, stringValue]) => [
        name,
        { stringValue, stringListValues: [], binaryListValues: [], dataType: 'String' as const },
      ]),
    ),
  });

const leastSns = ({ sns }: Route): ConditionsOf<Route> =>
  snsConditions({
    TopicArn: `arn:aws:sns:::${sns?.topic}`,
    MessageAttributes: Object.fromEntries(
      Object.entries(sns?.attributes ?? {}).map(([name, Value]) => [name, { Type: 'String', Value }]),
    ),
  });

/** An event that meets each of these, as an earlier route must to shadow a route that takes any of them. */
const allOf =
  (each: readonly ConditionsOf<Route>[]): ConditionsOf<Route> =>
  (route) =>
    each.flatMap((conditionsOf) => conditionsOf(route));

const leastKinesis = ({ kinesis }: Route): ConditionsOf<Route> =>
  kinesisConditions({ eventSourceARN: `arn:aws:kinesis:::stream/${kinesis?.stream}` });

/** DynamoDB: a change of the table under each event name the route takes (any, without its eventName). */
const leastDynamoDb = ({ dynamodb }: Route): ConditionsOf<Route> => {
  const eventSourceARN = `arn:aws:dynamodb:::table/${dynamodb?.table}/stream/any`;
  const names = dynamodb?.eventName === undefined ? [undefined] : [dynamodb.eventName].flat();
  return allOf(names.map((eventName) => dynamoDbConditions({ eventSourceARN, eventName })));
};

/**
 * S3: a key of the route's prefix and suffix around any text, URL-encoded as S3 sends it, under each of
 * its event names (`ObjectCreated:*` standing for any of them); an earlier route must match them all.
 */
const leastS3 = ({ s3 }: Route): ConditionsOf<Route> => {
  const key = encodeURIComponent(`${s3?.prefix ?? ''}${ANY_SEGMENT}${s3?.suffix ?? ''}`);
  const names = (s3?.events ?? ['*']).map((name) =>
    name.endsWith('*') ? `${name.slice(0, -1)}${ANY_SEGMENT}` : name,
  );
  return allOf(
    names.map((eventName) =>
      s3Conditions({ eventName, s3: { bucket: { name: s3?.bucket ?? '' }, object: { key } } }),
    ),
  );
};

const leastEvent = ({ eventbridge }: Route): AnyEventBridgeEvent => ({
  source: eventbridge?.source,
  'detail-type': eventbridge?.detailType,
  detail: eventbridge?.detail ?? {},
});

const leastTick = ({ schedule, scheduler }: Route): AnyEventBridgeEvent =>
  schedule !== undefined
    ? {
        source: 'aws.events',
        'detail-type': 'Scheduled Event',
        resources: [`arn:aws:events:::rule/${schedule.rule}`],
      }
    : { scheduleArn: `arn:aws:scheduler:::schedule/${scheduler?.group ?? 'default'}/${scheduler?.name}` };

const leastRequest = ({ route, method }: HttpRoute): ConditionsOf<HttpRoute> =>
  httpConditions({ method, path: (route.http?.path ?? '/').replace(PATH_PARAM, ANY_SEGMENT) });

/** Routes that an earlier route of the same trigger shadows: it matches every event they would. */
const shadowed = <R>(
  kind: string,
  routes: readonly R[],
  nameOf: (route: R) => string,
  leastOf: (route: R) => ConditionsOf<R>,
): string[] =>
  routes.flatMap((route, index) => {
    const earlier = firstMatch(routes.slice(0, index), leastOf(route));
    return earlier === undefined
      ? []
      : [
          `route "${nameOf(route)}" never matches: route "${nameOf(earlier)}" comes first and matches every ${kind} event it would`,
        ];
  });

/** Legal but suspicious: routes that can never match. */
export const routeWarnings = (routes: Routes): string[] => {
  const name = ({ name }: Route) => name;
  // A "Scheduled Event" from aws.events or aws.scheduler is a tick, never a custom event.
  const ticks = routes.eventbridge.flatMap((route) => {
    const trigger = eventBridgeTriggerOf(leastEvent(route));
    return trigger === 'eventbridge'
      ? []
      : [
          `route "${route.name}" never matches: the function takes "${route.eventbridge?.detailType}" from ${route.eventbridge?.source} as a ${trigger} tick`,
        ];
  });
  return [
    ...shadowed('http', routes.http, ({ route }) => route.name, leastRequest),
    ...shadowed('sqs', routes.sqs, name, leastSqs),
    ...ticks,
    ...shadowed('eventbridge', routes.eventbridge, name, (route) => eventBridgeConditions(leastEvent(route))),
    ...shadowed('schedule', routes.schedule, name, (route) => eventBridgeConditions(leastTick(route))),
    ...shadowed('scheduler', routes.scheduler, name, (route) => eventBridgeConditions(leastTick(route))),
    ...shadowed('kinesis', routes.kinesis, name, leastKinesis),
    ...shadowed('dynamodb', routes.dynamodb, name, leastDynamoDb),
    ...shadowed('sns', routes.sns, name, leastSns),
    ...shadowed('s3', routes.s3, name, leastS3),
  ];
};

/** Checks a parsed routes file as the build and a cold start do, and warns about routes that never match. */
export const checkRoutes = (raw: unknown, origin: string, taskQueue: string | undefined): CheckResult => {
  let routes: Routes;
  try {
    routes = compileRoutes(raw, origin, taskQueue);
  } catch (error) {
    if (!(error instanceof RoutesFileError)) throw error;
    return { problems: problemLines(error.message), warnings: [] };
  }
  return { problems: [], warnings: routeWarnings(routes), routes };
};
