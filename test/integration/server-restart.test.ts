import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  EventBridgeEvent,
  SQSBatchResponse,
  SQSRecord,
} from 'aws-lambda';
import { type ExampleWorkers, startExampleWorkers } from '../../example/worker.ts';
import { eventBridgeEvent, httpEvent, sqsEvent, sqsRecord, uid } from '../helpers/events.ts';
import { type RestartableServer, startRestartableServer } from '../helpers/restartableServer.ts';
import { type FunctionName, startWarmHandler, type WarmHandler } from '../helpers/warmHandler.ts';

/**
 * A Temporal server killed (SIGKILL) and started again on the same address and database while one warm
 * execution environment handles a stream of events, as a rolling restart or a failover does. The
 * environments run the built bundles, as Lambda does, in child processes that report any uncaught
 * exception or unhandled rejection and then exit, as Lambda's runtime does.
 *
 * What each test checks: the environment survives with no such report; every invocation answers within
 * its deadline; once what was reported failed is delivered again, as SQS, a retrying HTTP client or
 * EventBridge's async retries would, every event has started exactly one workflow; and the next
 * invocation after the restart succeeds.
 */

const ROUTES_FILE = new URL('../routes/contract.json', import.meta.url).pathname;
/** The function timeout of every invocation here. */
const TIMEOUT_MS = 3_000;
/** How long the server stays down. */
const DOWN_MS = 3_000;

const fifoRecord = (orderId: string, group: string): SQSRecord => {
  const record = sqsRecord({ orderId }, { queue: 'orders.fifo', attributes: {} });
  return { ...record, attributes: { ...record.attributes, MessageGroupId: group } };
};

describe('a Temporal server restart under a warm execution environment', () => {
  let server: RestartableServer;
  let workers: ExampleWorkers | undefined;
  let connection: Connection | undefined;
  let client: Client;
  const environments: WarmHandler[] = [];

  before(async () => {
    server = await startRestartableServer();
    workers = await startExampleWorkers({
      address: server.address,
      namespace: server.namespace,
      taskQueues: ['orders'],
    });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
  });
  after(async () => {
    await Promise.allSettled(environments.map((environment) => environment.stop()));
    await workers?.stop();
    await connection?.close();
    await server?.stop();
  });

  const environment = async (name: FunctionName): Promise<WarmHandler> => {
    const started = await startWarmHandler({
      function: name,
      from: 'bundle',
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: server.namespace,
        ROUTES_FILE,
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
    });
    environments.push(started);
    return started;
  };

  /** Invokes and checks the answer came within the function's timeout. */
  const invoke = async (target: WarmHandler, event: unknown) => {
    const answer = await target.invoke(event, TIMEOUT_MS);
    assert.ok(answer.elapsedMs <= TIMEOUT_MS, `answered after ${answer.elapsedMs} ms of ${TIMEOUT_MS}`);
    return answer;
  };

  /**
   * Kills the server once `warm` invocations have run, starts it again after DOWN_MS, and keeps
   * `step` going throughout, one invocation at a time as in one execution environment, until `after`
   * more invocations have run on the restarted server.
   */
  const throughRestart = async (step: () => Promise<unknown>, warm = 3, afterwards = 3): Promise<number> => {
    for (let i = 0; i < warm; i += 1) await step();
    await server.kill();
    let back = false;
    const restarted = sleep(DOWN_MS)
      .then(() => server.restart())
      .then(() => {
        back = true;
      });
    let invocations = warm;
    let since = 0;
    while (!back || since < afterwards) {
      await step();
      invocations += 1;
      if (back) since += 1;
      // Paced like a steady stream, not a spin while the server is down.
      await sleep(100);
    }
    await restarted;
    return invocations;
  };

  /** Every run of every workflow on the server, by workflow ID (waiting for visibility to list `ids`). */
  const runsById = async (ids: readonly string[]): Promise<Map<string, number>> => {
    const until = Date.now() + 20_000;
    for (;;) {
      const runs = new Map<string, number>();
      for await (const execution of client.workflow.list()) {
        runs.set(execution.workflowId, (runs.get(execution.workflowId) ?? 0) + 1);
      }
      if (ids.every((id) => runs.has(id)) || Date.now() > until) return runs;
      await sleep(250);
    }
  };

  /**
   * Waits until the example worker runs a workflow again. After a restart it polls again, and completes the
   * tasks it took, only after backoffs of its own; a task it took from the old server is retried when its
   * workflow task times out. That is the worker's recovery, not the function's, so a wait does not measure it.
   */
  const workerRunning = async (taskQueue: string): Promise<void> => {
    await client.workflow.execute('processOrder', { taskQueue, workflowId: `probe-${uid()}`, args: [{}] });
  };

  const assertOneRunEach = async (ids: readonly string[]) => {
    const runs = await runsById(ids);
    const wrong = ids.filter((id) => runs.get(id) !== 1).map((id) => `${id}: ${runs.get(id) ?? 0}`);
    assert.deepEqual(wrong, [], 'every event started exactly one workflow');
  };

  const assertSurvived = (target: WarmHandler) => {
    assert.deepEqual(target.crashes, [], 'no uncaught exception and no unhandled rejection');
    assert.ok(target.alive(), 'the execution environment is still running');
  };

  /** SQS: sends batches, and sends again, as SQS does, every record a batch reported as failed. */
  const sqsStream = (target: WarmHandler, record: (orderId: string, index: number) => SQSRecord) => {
    const ids: string[] = [];
    const retry: SQSRecord[] = [];
    let failed = 0;
    const deliver = async (records: SQSRecord[]) => {
      const { result, error } = await invoke(target, sqsEvent(...records));
      // A thrown invocation returns the whole batch to the queue.
      const failures =
        error === undefined
          ? (result as SQSBatchResponse).batchItemFailures.map((failure) => failure.itemIdentifier)
          : records.map((r) => r.messageId);
      failed += failures.length;
      retry.push(...records.filter((r) => failures.includes(r.messageId)));
      return failures.length;
    };
    const step = async () => {
      const records = Array.from({ length: 5 }, (_, index) => {
        const orderId = uid();
        ids.push(`order-${orderId}`);
        return record(orderId, index);
      });
      await deliver(records);
    };
    const redeliver = async () => {
      const deliveries = new Map<string, number>();
      while (retry.length > 0) {
        const records = retry.splice(0, 10);
        for (const { messageId } of records) {
          const count = (deliveries.get(messageId) ?? 0) + 1;
          assert.ok(
            count <= 5,
            `message ${messageId} still fails after 5 redeliveries:\n${target.output.slice(-5).join('\n')}`,
          );
          deliveries.set(messageId, count);
        }
        await deliver(records);
      }
    };
    return { ids, step, redeliver, failed: () => failed, deliver };
  };

  it('survives a restart during a stream of SQS batches, and every record starts one workflow', async (t) => {
    const sqs = await environment('sqs');
    const stream = sqsStream(sqs, (orderId) => sqsRecord({ orderId }));

    const invocations = await throughRestart(stream.step);
    await stream.redeliver();

    assertSurvived(sqs);
    assert.equal(await stream.deliver([sqsRecord({ orderId: uid() })]), 0, 'the next batch succeeds');
    await assertOneRunEach(stream.ids);
    t.diagnostic(
      `${invocations} batches, ${stream.ids.length} records, ${stream.failed()} reported and redelivered`,
    );
  });

  it('survives a restart during a stream of FIFO batches, and every record starts one workflow', async (t) => {
    const sqs = await environment('sqs');
    const stream = sqsStream(sqs, (orderId, index) => fifoRecord(orderId, `group-${index % 2}`));

    const invocations = await throughRestart(stream.step);
    await stream.redeliver();

    assertSurvived(sqs);
    assert.equal(await stream.deliver([fifoRecord(uid(), 'group-0')]), 0, 'the next batch succeeds');
    await assertOneRunEach(stream.ids);
    t.diagnostic(
      `${invocations} batches, ${stream.ids.length} records, ${stream.failed()} reported and redelivered`,
    );
  });

  /** HTTP: a client that retries a 5xx with the same request (its Idempotency-Key and body). */
  const httpStream = (target: WarmHandler, request: (orderId: string) => APIGatewayProxyEventV2) => {
    const ids: string[] = [];
    const retry: APIGatewayProxyEventV2[] = [];
    const statuses = new Map<number, number>();
    const send = async (event: APIGatewayProxyEventV2) => {
      const { result } = await invoke(target, event);
      const { statusCode = 0 } = result as APIGatewayProxyStructuredResultV2;
      statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      assert.ok([200, 202, 503, 504].includes(statusCode), `answered ${statusCode}`);
      if (statusCode >= 500)
        retry.push({ ...event, requestContext: { ...event.requestContext, requestId: crypto.randomUUID() } });
      return statusCode;
    };
    const step = async () => {
      const orderId = uid();
      ids.push(`order-${orderId}`);
      await send(request(orderId));
    };
    const resend = async () => {
      for (let round = 0; retry.length > 0; round += 1) {
        assert.ok(round < 30, `${retry.length} requests still failing`);
        await send(retry.shift() as APIGatewayProxyEventV2);
      }
    };
    return { ids, step, resend, statuses, send };
  };

  const order = (orderId: string, headers: Record<string, string> = {}) =>
    httpEvent({
      path: '/orders/acme',
      body: { orderId },
      headers: { 'idempotency-key': orderId, ...headers },
    });

  it('survives a restart during HTTP starts, and every request starts one workflow', async (t) => {
    const http = await environment('http');
    const stream = httpStream(http, (orderId) => order(orderId));

    const invocations = await throughRestart(stream.step);
    await stream.resend();

    assertSurvived(http);
    assert.equal(await stream.send(order(uid())), 202, 'the next request starts a workflow');
    await assertOneRunEach(stream.ids);
    t.diagnostic(`${invocations} requests: ${JSON.stringify(Object.fromEntries(stream.statuses))}`);
  });

  it('survives a restart while a request waits for a result (Prefer: wait)', async (t) => {
    const http = await environment('http');
    // approveRefund waits for a signal that never comes: the wait runs into the restart.
    const waiting = http.invoke(
      httpEvent({ path: '/workflows/approveRefund', body: {}, headers: { prefer: 'wait=4' } }),
      TIMEOUT_MS,
    );
    await sleep(500);
    await server.kill();
    await sleep(DOWN_MS);
    await server.restart();
    const { result, elapsedMs } = await waiting;
    const { statusCode } = result as APIGatewayProxyStructuredResultV2;

    assert.ok(elapsedMs <= TIMEOUT_MS, `answered after ${elapsedMs} ms`);
    // The start came before the restart; the wait could not finish: answered as still running.
    assert.equal(statusCode, 202);
    assertSurvived(http);
    // The example worker runs workflows again after backoffs of its own: a wait before that would time out.
    await workerRunning('orders');
    const orderId = uid();
    const next = await http.invoke(order(orderId, { prefer: 'wait=10' }), 15_000);
    const { statusCode: nextStatus, body = '' } = next.result as APIGatewayProxyStructuredResultV2;
    assert.equal(nextStatus, 200);
    assert.partialDeepStrictEqual(JSON.parse(body), {
      workflowId: `order-${orderId}`,
      started: true,
      status: 'COMPLETED',
      result: { processed: true, input: { order: { orderId }, tenant: 'acme' } },
    });
    await assertOneRunEach([`order-${orderId}`]);
    t.diagnostic(
      `the waiting request answered ${statusCode} after ${elapsedMs} ms; the next wait ${next.elapsedMs} ms`,
    );
  });

  it('survives a restart during EventBridge events, and every event starts one workflow', async (t) => {
    const eventbridge = await environment('eventbridge');
    const ids: string[] = [];
    const retry: EventBridgeEvent<string, unknown>[] = [];
    const send = async (event: EventBridgeEvent<string, unknown>) => {
      const { error } = await invoke(eventbridge, event);
      // A thrown invocation is retried by Lambda's asynchronous invocation with the same event.
      if (error !== undefined) retry.push(event);
      return error;
    };

    const invocations = await throughRestart(async () => {
      const orderId = uid();
      ids.push(`order-${orderId}`);
      await send(eventBridgeEvent({ orderId }));
    });
    const thrown = retry.length;
    for (let round = 0; retry.length > 0; round += 1) {
      assert.ok(round < 30, `${retry.length} events still failing`);
      await send(retry.shift() as EventBridgeEvent<string, unknown>);
    }

    assertSurvived(eventbridge);
    assert.equal(await send(eventBridgeEvent({ orderId: uid() })), undefined, 'the next event starts');
    await assertOneRunEach(ids);
    t.diagnostic(`${invocations} events, ${thrown} thrown and retried`);
  });

  it('survives a restart during a connect at cold start, then connects', async (t) => {
    await server.kill();
    const sqs = await environment('sqs');
    const stream = sqsStream(sqs, (orderId) => sqsRecord({ orderId }));
    // The first invocation connects while the server is down; the server comes back during the stream.
    const restarted = sleep(DOWN_MS).then(() => server.restart());
    let invocations = 0;
    let back = false;
    void restarted.then(() => {
      back = true;
    });
    while (!back) {
      await stream.step();
      invocations += 1;
      await sleep(100);
    }
    await restarted;
    await stream.redeliver();

    assertSurvived(sqs);
    assert.equal(await stream.deliver([sqsRecord({ orderId: uid() })]), 0, 'the next batch succeeds');
    await assertOneRunEach(stream.ids);
    t.diagnostic(`${invocations} batches while down, ${stream.failed()} records reported and redelivered`);
  });
});
