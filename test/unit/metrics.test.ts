import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowResult } from '#lib/actions.ts';
import { resetConfig } from '#lib/config.ts';
import { DeadlineExceededError, NoRouteError } from '#lib/errors.ts';
import { countAction, countBatch, countConnectionEvent, countFailure, measured } from '#lib/metrics.ts';
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
