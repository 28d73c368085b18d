import { AsyncLocalStorage } from 'node:async_hooks';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { WorkflowResult } from '#lib/actions.ts';
import { config } from '#lib/config.ts';
import { DeadlineExceededError, isPermanent, isTriggerError } from '#lib/errors.ts';

/**
 * CloudWatch metrics for every outcome, as Powertools Metrics writes them: embedded metric format
 * lines on stdout, which CloudWatch Logs turns into metrics, so no AWS API is called on the invocation
 * path. docs/observability.md lists every metric and dimension.
 *
 * What an invocation does is counted as it happens and written once, when the invocation ends: a
 * line per distinct set of dimension values (an SQS batch spanning two routes writes two), one per
 * outcome rolled up to the service, and one for the invocation itself. Powertools' logMetrics
 * middleware publishes a single set of dimension values per invocation, and a middleware cannot keep
 * an AsyncLocalStorage context around the handler, hence `measured`, which wraps the handler's call.
 */

export type Trigger = 'http' | 'sqs' | 'eventbridge' | 'sns' | 's3' | 'streams';

/** What an event was about, as far as it got: a failure before routing knows neither. */
export interface MetricLabels {
  readonly route?: string | undefined;
  readonly workflowType?: string | undefined;
}

/** Counts and latencies that share one set of dimension values: one line, or one per 99 latencies. */
interface Group {
  /** The line's dimension sets, each on top of `service` (Powertools' default dimension). */
  readonly sets: readonly Readonly<Record<string, string>>[];
  readonly counts: Map<string, number>;
  readonly latencies: number[];
}

class Invocation {
  /** By route, workflow type and outcome (or failure), and the same rolled up to the service. */
  readonly groups = new Map<string, Group>();
  /** Counts about the invocation as a whole: batch size, cut-offs, connections. */
  readonly totals = new Map<string, number>();
  /** Errors already counted, so one that is rethrown is counted once. */
  readonly counted = new WeakSet<object>();
  /** The route an HTTP request matched, for a failure that escapes the handler. */
  labels: MetricLabels = {};
  readonly trigger: Trigger;
  readonly functionName: string;

  constructor(trigger: Trigger, functionName: string) {
    this.trigger = trigger;
    this.functionName = functionName;
  }

  /**
   * The groups an outcome counts in: its detailed one, and its rollup (`service` and the outcome, and
   * `service` alone, which alarms use). They are separate lines: Powertools warns of a key that two
   * dimension sets of one line share.
   */
  groupsOf(labels: MetricLabels, outcome: Record<string, string>, rolled: Record<string, string>): Group[] {
    const detail = {
      function_name: this.functionName,
      trigger: this.trigger,
      route: labels.route || 'none',
      workflowType: labels.workflowType || 'none',
      ...outcome,
    };
    return [this.group([detail]), this.group([rolled, {}])];
  }

  private group(sets: Record<string, string>[]): Group {
    const key = JSON.stringify(sets);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { sets, counts: new Map(), latencies: [] };
      this.groups.set(key, group);
    }
    return group;
  }
}

const storage = new AsyncLocalStorage<Invocation>();

const add = (counts: Map<string, number>, name: string, value = 1): void => {
  counts.set(name, (counts.get(name) ?? 0) + value);
};

/** What an action did, as the `outcome` dimension says it. */
const outcomeOf = (result: WorkflowResult): string => {
  if (result.started) return 'started';
  if (result.action === 'start') return 'existing';
  if (result.signal !== undefined) return 'signalled';
  return 'updated';
};

/** An action that succeeded: `Actions`, by outcome, and its latency. */
export const countAction = (labels: MetricLabels, result: WorkflowResult, latencyMs: number): void => {
  const invocation = storage.getStore();
  if (invocation === undefined) return;
  const outcome = outcomeOf(result);
  for (const group of invocation.groupsOf(labels, { outcome }, { outcome })) {
    add(group.counts, 'Actions');
    group.latencies.push(latencyMs);
  }
};

/**
 * An event or request that failed: `Failures`, by error class and permanence. A failure counted with
 * its event's labels is not counted again when it escapes the handler.
 */
export const countFailure = (error: unknown, labels?: MetricLabels): void => {
  const invocation = storage.getStore();
  if (invocation === undefined) return;
  if (typeof error === 'object' && error !== null) {
    if (invocation.counted.has(error)) return;
    invocation.counted.add(error);
  }
  const permanent = String(isPermanent(error));
  const name = isTriggerError(error) ? error.name : 'UnexpectedError';
  for (const group of invocation.groupsOf(
    labels ?? invocation.labels,
    { error: name, permanent },
    { permanent },
  )) {
    add(group.counts, 'Failures');
  }
  if (error instanceof DeadlineExceededError) add(invocation.totals, 'DeadlineCutoffs');
};

/** The route the invocation's request matched (HTTP), for the failures that escape the handler. */
export const labelInvocation = (labels: MetricLabels): void => {
  const invocation = storage.getStore();
  if (invocation !== undefined) invocation.labels = labels;
};

/** An SQS or stream batch: its size and how many of its records it reported as failed. */
export const countBatch = (size: number, failures: number): void => {
  const invocation = storage.getStore();
  if (invocation === undefined) return;
  add(invocation.totals, 'BatchSize', size);
  add(invocation.totals, 'BatchItemFailures', failures);
};

/** Something the Temporal connection went through: replaced, or its credentials read afresh. */
export const countConnectionEvent = (name: 'ConnectionReplacements' | 'CredentialRefreshes'): void => {
  const invocation = storage.getStore();
  if (invocation !== undefined) add(invocation.totals, name);
};

let publisher: Metrics | undefined;

/**
 * EMF takes 100 values of a metric per line, and Powertools publishes by itself at the 100th, before
 * the line's dimensions are complete: a line gets 99 at most.
 */
const MAX_VALUES = 99;

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * One EMF line, byte for byte as Powertools Metrics' `addDimensions`, `addMetric` and
 * `publishStoredMetrics` write it (`service` first in every dimension set, values after `_aws`, one
 * value as a number and several as an array, an empty dimension value left out with Powertools'
 * warning on stderr). Written here because Powertools' path costs a warm start about 0.1 ms of CPU
 * (stores looked up per call, every metric validated, every line checked for colliding keys) for
 * lines whose dimensions and metrics are fixed by this module; test/unit/metrics.test.ts compares the
 * two.
 */
export const emfLine = (
  namespace: string,
  service: string,
  sets: readonly Readonly<Record<string, string>>[],
  metrics: readonly (readonly [name: string, unit: Unit, values: number | readonly number[]])[],
): string => {
  const dimensions: string[][] = [];
  const values: Record<string, unknown> = { service };
  for (const set of sets) {
    const names = ['service'];
    for (const name in set) {
      const value = set[name];
      if (value === undefined || value === '') {
        process.stderr.write(
          `The dimension ${name} doesn't meet the requirements and won't be added. Ensure the dimension name and value are non empty strings\n`,
        );
        continue;
      }
      if (name !== 'service') names.push(name);
      values[name] = value;
    }
    dimensions.push(names);
  }
  const definitions = metrics.map(([name, unit]) => ({ Name: name, Unit: unit }));
  for (const [name, , value] of metrics) values[name] = value;
  const aws = {
    Timestamp: Date.now(),
    CloudWatchMetrics: [{ Namespace: namespace, Dimensions: dimensions, Metrics: definitions }],
  };
  return JSON.stringify({ _aws: aws, ...values });
};

const oneOrMany = (values: readonly number[]): number | readonly number[] =>
  values.length === 1 ? (values[0] as number) : values;

/**
 * Writes what the invocation counted, one line per set of dimension values, in one write.
 * Synchronous: nothing interleaves.
 */
const publish = (invocation: Invocation): void => {
  const { namespace, service } = config().metrics;
  publisher ??= new Metrics({ namespace, serviceName: service });
  // Once per execution environment, and only when Lambda says it started on demand.
  publisher.captureColdStartMetric(invocation.functionName);
  const lines: string[] = [];
  for (const { sets, counts, latencies } of invocation.groups.values()) {
    let first = true;
    // A group with more latencies than a line holds writes them over several lines, its counts once.
    for (let offset = 0; first || offset < latencies.length; offset += MAX_VALUES) {
      const metrics: [string, Unit, number | readonly number[]][] = [];
      if (first) for (const [name, value] of counts) metrics.push([name, MetricUnit.Count, value]);
      const chunk = latencies.slice(offset, offset + MAX_VALUES);
      if (chunk.length > 0) metrics.push(['StartLatency', MetricUnit.Milliseconds, oneOrMany(chunk)]);
      lines.push(emfLine(namespace, service, sets, metrics));
      first = false;
    }
  }
  if (invocation.totals.size > 0) {
    const sets: Record<string, string>[] = [
      { function_name: invocation.functionName, trigger: invocation.trigger },
      {},
    ];
    const metrics = [...invocation.totals].map(([name, value]) => [name, MetricUnit.Count, value] as const);
    lines.push(emfLine(namespace, service, sets, metrics));
  }
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
};

/**
 * Runs one invocation's work with its metrics: what `fn` counts, and a failure it throws, are written
 * when it ends, however it ends. With metrics switched off, `fn` runs alone.
 */
export const measured = async <T>(trigger: Trigger, context: Context, fn: () => Promise<T>): Promise<T> => {
  if (!config().metrics.enabled) return fn();
  const invocation = new Invocation(trigger, context.functionName);
  return storage.run(invocation, async () => {
    try {
      return await fn();
    } catch (error) {
      countFailure(error);
      throw error;
    } finally {
      publish(invocation);
    }
  });
};
