import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { WorkflowResult } from '#lib/actions.ts';
import { resetConfig } from '#lib/config.ts';
import { DeadlineExceededError, NoRouteError } from '#lib/errors.ts';
import {
  countAction,
  countBatch,
  countConnectionEvent,
  countFailure,
  emfLine,
  measured,
} from '#lib/metrics.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { metricSum, metricValues } from '../helpers/emf.ts';
import { captureLogs } from '../helpers/logs.ts';

const started: WorkflowResult = {
  action: 'start',
  workflowId: 'order-1',
  workflowType: 'processOrder',
  namespace: 'default',
  started: true,
};
const route = { route: 'orders-queue', workflowType: 'processOrder' };
const context = lambdaContext({ functionName: 'fn' });

describe('measured', () => {
  before(() => {
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'Unit';
    resetConfig();
  });
  after(() => {
    delete process.env.POWERTOOLS_METRICS_NAMESPACE;
    resetConfig();
  });

  it('writes a batch’s 250 latencies over lines of 99, and its count once', async () => {
    const { metrics } = await captureLogs(() =>
      measured('sqs', context, async () => {
        for (let i = 1; i <= 250; i += 1) countAction(route, started, i);
      }),
    );
    const detail = metrics.filter((line) => line.route === 'orders-queue');
    assert.deepEqual(
      detail.map((line) => (line.StartLatency as number[]).length),
      [99, 99, 52],
    );
    assert.equal(metricSum(detail, 'Actions'), 250);
    assert.deepEqual(
      metricValues(detail, 'StartLatency'),
      Array.from({ length: 250 }, (_, i) => i + 1),
    );
  });

  it('counts a failure once however often it is rethrown, and a cut-off with it', async () => {
    const cutOff = new DeadlineExceededError('Not started');
    const { metrics } = await captureLogs(() =>
      measured('eventbridge', context, async () => {
        countFailure(cutOff, route);
        throw cutOff;
      }).catch((error: unknown) => error),
    );
    const lines = metrics;
    assert.equal(
      metricSum(lines, 'Failures', { error: 'DeadlineExceededError', permanent: 'false', ...route }),
      1,
    );
    assert.equal(metricSum(lines, 'DeadlineCutoffs', { trigger: 'eventbridge' }), 1);
  });

  it('counts a failure that escapes the handler, and what the invocation went through', async () => {
    const { metrics } = await captureLogs(() =>
      measured('sqs', context, async () => {
        countBatch(10, 2);
        countConnectionEvent('ConnectionReplacements');
        countConnectionEvent('CredentialRefreshes');
        throw new NoRouteError('nothing');
      }).catch(() => undefined),
    );
    const lines = metrics;
    assert.equal(metricSum(lines, 'Failures', { trigger: 'sqs', route: 'none', error: 'NoRouteError' }), 1);
    const totals = lines.find((line) => line.BatchSize !== undefined);
    assert.deepEqual(
      [
        totals?.BatchSize,
        totals?.BatchItemFailures,
        totals?.ConnectionReplacements,
        totals?.CredentialRefreshes,
      ],
      [10, 2, 1, 1],
    );
    assert.deepEqual(totals?._aws.CloudWatchMetrics[0]?.Dimensions, [
      ['service', 'function_name', 'trigger'],
      ['service'],
    ]);
  });

  it('counts nothing outside an invocation, and writes nothing for one that counted nothing', async () => {
    countAction(route, started, 1);
    const { metrics } = await captureLogs(() => measured('http', context, async () => 'answer'));
    assert.deepEqual(metrics, []);
  });
});

describe('emfLine', () => {
  const cases: [string, Parameters<typeof emfLine>[2], Parameters<typeof emfLine>[3]][] = [
    [
      'an outcome by route',
      [
        {
          function_name: 'fn',
          trigger: 'http',
          route: 'orders-api',
          workflowType: 'processOrder',
          outcome: 'started',
        },
      ],
      [
        ['Actions', MetricUnit.Count, 1],
        ['StartLatency', MetricUnit.Milliseconds, 3.25],
      ],
    ],
    [
      'a rollup with several latencies',
      [{ outcome: 'started' }, {}],
      [
        ['Actions', MetricUnit.Count, 3],
        ['StartLatency', MetricUnit.Milliseconds, [1.5, 2, 40]],
      ],
    ],
    [
      'an empty dimension value',
      [{ function_name: '', trigger: 'sqs' }, {}],
      [
        ['BatchSize', MetricUnit.Count, 10],
        ['BatchItemFailures', MetricUnit.Count, 0],
      ],
    ],
  ];
  for (const [name, sets, metrics] of cases) {
    it(`writes what Powertools Metrics writes for ${name}`, async () => {
      const powertools = new Metrics({ namespace: 'Unit', serviceName: 'svc' });
      const expected = await captureLogs(async () => {
        for (const set of sets) powertools.addDimensions(set);
        for (const [metric, unit, values] of metrics) {
          for (const value of [values].flat()) powertools.addMetric(metric, unit, value);
        }
        powertools.publishStoredMetrics();
      });
      const actual = await captureLogs(async () => {
        process.stdout.write(`${emfLine('Unit', 'svc', sets, metrics)}\n`);
      });
      const withoutTime = (lines: string[]) => lines.map((line) => line.replace(/"Timestamp":\d+/, ''));
      assert.deepEqual(withoutTime(actual.lines), withoutTime(expected.lines));
    });
  }
});
