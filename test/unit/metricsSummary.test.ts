import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarize } from '../../scripts/metricsSummary.ts';

const emf = (metrics: Record<string, [string, unknown]>, dimensions: Record<string, string>) =>
  JSON.stringify({
    _aws: {
      Timestamp: 0,
      CloudWatchMetrics: [
        {
          Namespace: 'TemporalTriggers',
          Dimensions: [Object.keys(dimensions)],
          Metrics: Object.entries(metrics).map(([Name, [Unit]]) => ({ Name, Unit })),
        },
      ],
    },
    service: 'temporal-triggers',
    ...dimensions,
    ...Object.fromEntries(Object.entries(metrics).map(([name, [, value]]) => [name, value])),
  });

describe('summarize', () => {
  it('shows an outcome by trigger, route and workflow type, with its counts and latencies', () => {
    const line = emf(
      { Actions: ['Count', 2], StartLatency: ['Milliseconds', [3.04, 12]] },
      { trigger: 'sqs', route: 'orders-queue', workflowType: 'processOrder', outcome: 'started' },
    );
    assert.equal(
      summarize(line),
      '[metrics] sqs orders-queue processOrder started: Actions 2, StartLatency 3 ms, 12 ms',
    );
  });

  it('shows a failure by class and permanence, an invocation’s totals, and the cold start', () => {
    const failure = emf(
      { Failures: ['Count', 1] },
      { trigger: 'http', route: 'none', workflowType: 'none', error: 'NoRouteError', permanent: 'true' },
    );
    assert.equal(summarize(failure), '[metrics] http none none NoRouteError (permanent): Failures 1');
    const totals = emf({ BatchSize: ['Count', 10], BatchItemFailures: ['Count', 1] }, { trigger: 'sqs' });
    assert.equal(summarize(totals), '[metrics] sqs: BatchSize 10, BatchItemFailures 1');
    assert.equal(
      summarize(emf({ ColdStart: ['Count', 1] }, { function_name: 'fn' })),
      '[metrics] fn: ColdStart 1',
    );
  });

  it('leaves out the rolled-up lines and anything that is not a metrics line', () => {
    assert.equal(summarize(emf({ Actions: ['Count', 1] }, { outcome: 'started' })), undefined);
    assert.equal(summarize('{"level":"INFO","message":"Workflow started"}'), undefined);
    assert.equal(summarize('{"_aws": broken'), undefined);
  });
});
