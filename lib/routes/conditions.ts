/**
 * One condition a route's trigger sets an event, and whether the event meets it. A route matches an
 * event that meets all of its conditions; the sources match with these, and `npm run routes -- explain`
 * shows which ones a route that did not match failed.
 */
export interface Condition {
  /** What is compared: `path`, `method`, `queue`, `attribute kind`, `source`, `detail.status`, `rule`, ... */
  readonly name: string;
  /** What the route asks for. */
  readonly expected: unknown;
  /** What the event has; undefined when it has nothing there. */
  readonly actual: unknown;
  readonly met: boolean;
}

/** The conditions one route of a trigger sets the event at hand. */
export type ConditionsOf<R> = (route: R) => readonly Condition[];

/** A condition that is met by equal values, unless `met` says otherwise. */
export const condition = (
  name: string,
  expected: unknown,
  actual: unknown,
  met: boolean = expected === actual,
): Condition => ({ name, expected, actual, met });

/** Each message attribute a route names (SQS, SNS), held with that value. */
export const attributeConditions = (
  expected: Readonly<Record<string, string>> | undefined,
  attributes: Readonly<Record<string, string>>,
): Condition[] =>
  Object.entries(expected ?? {}).map(([name, value]) =>
    condition(`attribute ${name}`, value, Object.hasOwn(attributes, name) ? attributes[name] : undefined),
  );

/** The first route, in file order, whose every condition the event meets. */
export const firstMatch = <R>(routes: readonly R[], conditionsOf: ConditionsOf<R>): R | undefined =>
  routes.find((route) => conditionsOf(route).every(({ met }) => met));
