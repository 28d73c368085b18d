import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { resetConfig } from '#lib/config.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { type EmfLine, metricSum, metricValues } from '../helpers/emf.ts';
import { eventBridgeEvent, httpEvent, sqsEvent, sqsRecord, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/** Actions of a route by outcome, as its detailed lines count them. */
const outcomes = (lines: EmfLine[], route: Record<string, string>) => ({
  started: metricSum(lines, 'Actions', { ...route, outcome: 'started' }),
  existing: metricSum(lines, 'Actions', { ...route, outcome: 'existing' }),
});

/** Failures of a trigger by error class and permanence, as the detailed lines count them. */
const failures = (
  lines: EmfLine[],
  trigger: string,
  error: string,
  permanent: 'true' | 'false',
  where: Record<string, string> = {},
) => metricSum(lines, 'Failures', { trigger, error, permanent, ...where });

/** The EMF lines the handlers print, counted per outcome, against a real Temporal server. */
describe('metrics of the three handlers', () => {
  let stack: Stack;
  let http: (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
  let sqs: (event: SQSEvent) => Promise<SQSBatchResponse>;
  let eventbridge: (event: unknown) => Promise<unknown>;

  before(async () => {
    stack = await startStack();
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'TriggersTest';
    process.env.POWERTOOLS_SERVICE_NAME = 'triggers-test';
    // As Lambda sets it for an environment that is not provisioned: Powertools' ColdStart needs it.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    resetConfig();
    const [httpModule, sqsModule, eventbridgeModule] = await Promise.all([
      import('../../functions/http.ts'),
      import('../../functions/sqs.ts'),
      import('../../functions/eventbridge.ts'),
    ]);
    http = async (event) =>
      (await httpModule.handler(
        event as never,
        lambdaContext({ functionName: 'triggers-http' }),
      )) as APIGatewayProxyStructuredResultV2;
    sqs = async (event) =>
      (await sqsModule.handler(event, lambdaContext({ functionName: 'triggers-sqs' }))) as SQSBatchResponse;
    eventbridge = (event) => eventbridgeModule.handler(event, lambdaContext({ functionName: 'triggers-eb' }));
  });
  after(async () => {
    delete process.env.POWERTOOLS_METRICS_NAMESPACE;
    delete process.env.POWERTOOLS_SERVICE_NAME;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    resetConfig();
    await stack?.stop();
  });

  it('counts an HTTP start, its duplicate and a 404, each by route, workflow type and outcome', async () => {
    const orderId = uid();
    const body = { orderId };
    const headers = { 'idempotency-key': `key-${orderId}` };
    const { result, metrics } = await captureLogs(async () => [
      await http(httpEvent({ path: '/orders/acme', body, headers })),
      await http(httpEvent({ path: '/orders/acme', body, headers })),
      await http(httpEvent({ path: '/nowhere', body })),
    ]);
    assert.deepEqual(
      result.map(({ statusCode }) => statusCode),
      [202, 200, 404],
    );

    const lines = metrics;
    const route = {
      service: 'triggers-test',
      trigger: 'http',
      route: 'orders-api',
      workflowType: 'processOrder',
    };
    assert.deepEqual(outcomes(lines, route), { started: 1, existing: 1 });
    assert.equal(metricValues(lines, 'StartLatency', route).length, 2);
    assert.ok(metricValues(lines, 'StartLatency', route).every((ms) => ms > 0 && ms < 10_000));
    assert.equal(failures(lines, 'http', 'NoRouteError', 'true', { route: 'none' }), 1);
    // Every line is in the configured namespace. Each outcome is counted by route and workflow type,
    // and again rolled up to the service (what the alarms and the dashboard's totals read).
    for (const line of lines) assert.equal(line._aws.CloudWatchMetrics[0]?.Namespace, 'TriggersTest');
    const started = lines.find((line) => line.outcome === 'started' && line.route !== undefined);
    assert.deepEqual(started?._aws.CloudWatchMetrics[0]?.Dimensions, [
      ['service', 'function_name', 'trigger', 'route', 'workflowType', 'outcome'],
    ]);
    const rollups = lines.filter((line) => line.route === undefined && line.outcome !== undefined);
    assert.deepEqual(
      rollups.map((line) => [line.outcome, line.Actions, line._aws.CloudWatchMetrics[0]?.Dimensions]),
      [
        ['started', 1, [['service', 'outcome'], ['service']]],
        ['existing', 1, [['service', 'outcome'], ['service']]],
      ],
    );
    const failed = lines.filter((line) => line.route === undefined && line.permanent === 'true');
    assert.deepEqual(
      failed.map((line) => [line.Failures, line._aws.CloudWatchMetrics[0]?.Dimensions]),
      [[1, [['service', 'permanent'], ['service']]]],
    );
    assert.equal(started?.function_name, 'triggers-http');
    // The first invocation of the environment prints Powertools' ColdStart metric.
    assert.equal(
      metricSum(lines, 'ColdStart', { service: 'triggers-test', function_name: 'triggers-http' }),
      1,
    );
    // Never a workflow ID, in a dimension or anywhere else in a metric line.
    assert.ok(lines.every((line) => !JSON.stringify(line).includes(orderId)));
  });

  it('counts an SQS batch with a poisoned record and a duplicate', async () => {
    const orderId = uid();
    const first = sqsRecord({ orderId });
    const duplicate = sqsRecord({ orderId });
    const poisoned = sqsRecord('{not json');
    const { result, metrics } = await captureLogs(async () => {
      const batch = await sqs(sqsEvent(first, poisoned));
      return [batch, await sqs(sqsEvent(duplicate))];
    });
    assert.deepEqual(result, [
      { batchItemFailures: [{ itemIdentifier: poisoned.messageId }] },
      { batchItemFailures: [] },
    ]);

    const lines = metrics;
    const route = { trigger: 'sqs', route: 'orders-queue', workflowType: 'processOrder' };
    assert.deepEqual(outcomes(lines, route), { started: 1, existing: 1 });
    assert.equal(failures(lines, 'sqs', 'MalformedJsonError', 'true'), 1);
    assert.equal(metricSum(lines, 'BatchSize', { trigger: 'sqs' }), 3);
    assert.equal(metricSum(lines, 'BatchItemFailures', { trigger: 'sqs' }), 1);
  });

  it('counts an SQS record cut off by the deadline as a transient failure and a cut-off', async () => {
    const record = sqsRecord({ orderId: uid() });
    const { result, metrics } = await captureLogs(() =>
      sqsModuleInvoke(sqsEvent(record), lambdaContext({ functionName: 'triggers-sqs', timeoutMs: 900 })),
    );
    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: record.messageId }] });
    const lines = metrics;
    assert.equal(metricSum(lines, 'DeadlineCutoffs', { trigger: 'sqs' }), 1);
    assert.equal(failures(lines, 'sqs', 'DeadlineExceededError', 'false'), 1);
  });

  it('counts an EventBridge start, a second event for the same workflow and an event no route takes', async () => {
    const orderId = uid();
    const event = eventBridgeEvent({ orderId });
    // Another event for the same order: the workflow exists. (A redelivery of the same event is
    // answered by the server as the start it was, and counts as started again: docs/observability.md.)
    const another = eventBridgeEvent({ orderId });
    const unrouted = eventBridgeEvent({ orderId: uid() }, { source: 'com.example.other' });
    const { metrics } = await captureLogs(async () => {
      await eventbridge(event);
      await eventbridge(another);
      await eventbridge(unrouted).then(
        () => assert.fail('an event no route takes must fail'),
        () => undefined,
      );
    });

    const lines = metrics;
    const route = { trigger: 'eventbridge', route: 'order-events', workflowType: 'processOrder' };
    assert.deepEqual(outcomes(lines, route), { started: 1, existing: 1 });
    // Counted where it failed, and not again when the handler threw it.
    assert.equal(failures(lines, 'eventbridge', 'NoRouteError', 'true'), 1);
  });

  it('prints the cold start once per environment, and nothing when metrics are switched off', async () => {
    const { metrics } = await captureLogs(() =>
      http(httpEvent({ path: '/orders/acme', body: { orderId: uid() } })),
    );
    assert.equal(metricSum(metrics, 'ColdStart'), 0);

    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    resetConfig();
    try {
      const off = await captureLogs(() =>
        http(httpEvent({ path: '/orders/acme', body: { orderId: uid() } })),
      );
      assert.equal(off.result.statusCode, 202);
      assert.deepEqual(off.metrics, []);
    } finally {
      delete process.env.POWERTOOLS_METRICS_DISABLED;
      resetConfig();
    }
  });

  const sqsModuleInvoke = async (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => {
    const { handler } = await import('../../functions/sqs.ts');
    return (await handler(event, context)) as SQSBatchResponse;
  };
});
