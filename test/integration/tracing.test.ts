import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { fixture, httpEvent, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const require = createRequire(import.meta.url);

/** A fresh W3C trace: its trace ID and the caller's span ID. */
const newTrace = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });

/**
 * One trace from the AWS event into the workflow: a worker that runs Temporal's OpenTelemetry
 * interceptors, as a user's would, records the workflow's spans, and they continue the trace the
 * event came with.
 */
describe('trace propagation into the workflow', () => {
  let stack: Stack;
  let connection: NativeConnection;
  let workers: Worker[] = [];
  let running: Promise<unknown> | undefined;
  const exporter = new InMemorySpanExporter();
  let http: (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
  let sqs: (event: SQSEvent) => Promise<SQSBatchResponse>;

  before(async () => {
    stack = await startStack([]);
    connection = await NativeConnection.connect({ address: stack.address });
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../../example/workflows.ts', import.meta.url)),
      workflowInterceptorModules: [
        require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
      ],
      logger: new DefaultLogger('ERROR'),
    });
    workers = await Promise.all(
      ['orders', 'carts'].map((taskQueue) =>
        Worker.create({
          connection,
          taskQueue,
          workflowBundle,
          sinks: {
            exporter: makeWorkflowExporter(exporter, new Resource({ 'service.name': 'test-worker' })),
          },
        }),
      ),
    );
    running = Promise.allSettled(workers.map((each) => each.run()));
    const [httpModule, sqsModule] = await Promise.all([
      import('../../functions/http.ts'),
      import('../../functions/sqs.ts'),
    ]);
    http = async (event) =>
      (await httpModule.handler(event as never, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    sqs = async (event) => (await sqsModule.handler(event, lambdaContext())) as SQSBatchResponse;
  });
  after(async () => {
    for (const each of workers) if (each.getState() === 'RUNNING') each.shutdown();
    await running;
    await connection?.close();
    await stack?.stop();
  });

  /** The worker's spans of a workflow named `name`, once there is one (spans are exported as they end). */
  const spanOf = async (workflowId: string, name: string): Promise<ReadableSpan> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const span = exporter
        .getFinishedSpans()
        .find((each) => each.name === name && each.attributes.workflowId === workflowId);
      if (span !== undefined) return span;
      assert.ok(
        Date.now() < deadline,
        `no ${name} span of ${workflowId}: ${exporter.getFinishedSpans().map((each) => each.name)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('continues an HTTP request’s traceparent in the workflow’s run', async () => {
    const { traceId, spanId } = newTrace();
    const orderId = uid();
    const { result: response } = await captureLogs(() =>
      http(
        httpEvent({
          path: '/orders/acme',
          body: { orderId },
          headers: { traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'vendor=value' },
        }),
      ),
    );
    assert.equal(response.statusCode, 202);

    const span = await spanOf(`order-${orderId}`, 'RunWorkflow:processOrder');
    assert.equal(span.spanContext().traceId, traceId);
    assert.equal(span.parentSpanId, spanId);
    assert.equal(span.spanContext().traceState?.get('vendor'), 'value');
  });

  it('continues the trace of an update-with-start in the update’s handler', async () => {
    const { traceId, spanId } = newTrace();
    const cartId = uid();
    const { result: response } = await captureLogs(() =>
      http(
        httpEvent({
          path: `/carts/${cartId}/count`,
          body: { sku: 'pen', quantity: 1 },
          headers: { traceparent: `00-${traceId}-${spanId}-01` },
        }),
      ),
    );
    assert.equal(response.statusCode, 200);

    const span = await spanOf(`cart-${cartId}`, 'HandleUpdate:addItemAndCount');
    assert.equal(span.spanContext().traceId, traceId);
    await stack.client.workflow.getHandle(`cart-${cartId}`).terminate('test done');
  });

  it('continues an SQS record’s AWSTraceHeader in the workflow’s run', async () => {
    const event = fixture<SQSEvent>('sqs/traced-order.json');
    const record = event.Records[0] as SQSRecord;
    const { traceId, spanId } = newTrace();
    const orderId = uid();
    record.messageId = crypto.randomUUID();
    record.body = JSON.stringify({ orderId });
    record.attributes.AWSTraceHeader = xrayHeader({ traceId, spanId }, 1);
    const { result } = await captureLogs(() => sqs(event));
    assert.deepEqual(result, { batchItemFailures: [] });

    const span = await spanOf(`order-${orderId}`, 'RunWorkflow:processOrder');
    assert.equal(span.spanContext().traceId, traceId);
    assert.equal(span.parentSpanId, spanId);
  });

  /** X-Ray's form of a W3C trace: "1-" and its first 8 hex digits, a dash, the other 24. */
  const xrayHeader = ({ traceId, spanId }: ReturnType<typeof newTrace>, sampled: 0 | 1) =>
    `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanId};Sampled=${sampled}`;

  /** Starts an order over HTTP, with no trace header, while Lambda's X-Ray trace is `header`. */
  const startUnderLambdaTrace = async (header: string): Promise<ReadableSpan> => {
    const orderId = uid();
    const previous = process.env._X_AMZN_TRACE_ID;
    process.env._X_AMZN_TRACE_ID = header;
    try {
      await captureLogs(() => http(httpEvent({ path: '/orders/acme', body: { orderId } })));
    } finally {
      if (previous === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = previous;
    }
    return spanOf(`order-${orderId}`, 'RunWorkflow:processOrder');
  };

  it('leaves a workflow without a trace when the event has none, and the invocation’s is not sampled', async () => {
    const span = await startUnderLambdaTrace(xrayHeader(newTrace(), 0));
    // The worker starts a trace of its own: a root span.
    assert.equal(span.parentSpanId, undefined);
  });

  it('continues the invocation’s sampled X-Ray trace when the event carries none', async () => {
    const trace = newTrace();
    const span = await startUnderLambdaTrace(xrayHeader(trace, 1));
    assert.equal(span.spanContext().traceId, trace.traceId);
    assert.equal(span.parentSpanId, trace.spanId);
  });
});
