import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { Context } from 'aws-lambda';
import { startExampleWorkers } from '../example/worker.ts';
import { build } from './build.ts';
import { elasticMqMissing } from './elasticMq.ts';
import { type LocalBus, startLocalBus } from './localBus.ts';
import { type LocalDeployment, type LocalQueue, localDeployment } from './localDeployment.ts';
import { type HttpApiHandler, type LocalGateway, startLocalGateway } from './localGateway.ts';
import { type LocalSqs, startLocalSqs } from './localSqs.ts';
import { summarizeMetrics } from './metricsSummary.ts';
import { send } from './send.ts';
import { removeStack, STACK_FILE, type Stack, writeStack } from './stackFile.ts';
import { startDevServer } from './temporalServer.ts';

/**
 * `npm start`: a Temporal dev server with its web UI, workers for the example workflows, the built
 * HTTP handler behind a local API Gateway, the routes file's queues in a local SQS server (ElasticMQ)
 * polled for the built sqs function, and a local event bus for the built eventbridge function
 * (`npm run send` puts messages, events and schedule ticks on them). It runs until SIGINT or SIGTERM.
 * With `--smoke` (or START_SMOKE=1) it sends one of each instead, waits for the workflows' results and
 * exits.
 */

const smoke = process.argv.includes('--smoke') || process.env.START_SMOKE === '1';
/** `--no-build`: serve the bundles already in dist/. */
const noBuild = process.argv.includes('--no-build');
const HANDLER = new URL('../dist/http/index.mjs', import.meta.url);
const SQS_HANDLER = new URL('../dist/sqs/index.mjs', import.meta.url);
const EVENTBRIDGE_HANDLER = new URL('../dist/eventbridge/index.mjs', import.meta.url);
/**
 * The local queues' visibility timeout (LOCAL_SQS_VISIBILITY_TIMEOUT, seconds): the deployment's is
 * six times the function's timeout (minutes), too long to watch a failed message come back.
 */
const VISIBILITY_TIMEOUT_S = Number(process.env.LOCAL_SQS_VISIBILITY_TIMEOUT ?? 5);
const TASK_QUEUES = ['orders', 'reports', 'carts'];
const RESULT_TIMEOUT_MS = 30_000;
// Longer than the dev server's own SIGTERM-to-SIGKILL grace (5 s), so the one child process always gets
// stopped; only in-process pieces (a worker still retrying calls to a server that is gone) are cut short.
const STOP_TIMEOUT_MS = 10_000;

const log = (message: string): void => {
  process.stderr.write(`[start] ${message}\n`);
};

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

class InterruptedError extends Error {
  override name = 'InterruptedError';
}

// What has started so far, stopped in reverse order on the way out, whatever the way out is.
const running: { name: string; stop: () => Promise<void> }[] = [];
let stopping = false;
let requestStop = (): void => {};
const stopRequested = new Promise<void>((resolve) => {
  requestStop = resolve;
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(stopping ? `${signal}: already stopping` : `${signal}: stopping`);
    stopping = true;
    requestStop();
  });
}
// A worker that dies would otherwise crash the process and leave the dev server behind.
process.on('unhandledRejection', (reason) => {
  log(`failed: ${describe(reason)}`);
  process.exitCode = 1;
  stopping = true;
  requestStop();
});

/** Starts one piece and records how to stop it. A signal during startup ends startup after this piece. */
const begin = async <T>(
  name: string,
  starting: Promise<T>,
  stop: (value: T) => Promise<void>,
): Promise<T> => {
  const value = await starting;
  running.push({ name, stop: () => stop(value) });
  if (stopping) throw new InterruptedError(`stopped while starting (${name} was up)`);
  return value;
};

const stopAll = async (): Promise<void> => {
  for (const { name, stop } of running.reverse()) {
    try {
      const stopped = await Promise.race([stop().then(() => true), sleep(STOP_TIMEOUT_MS, false)]);
      if (!stopped) log(`the ${name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; moving on`);
    } catch (error) {
      log(`stopping the ${name} failed: ${describe(error)}`);
      process.exitCode = 1;
    }
  }
};

/** PORT when set; otherwise 3000 when it is free, and any free port when it isn't (or for a smoke run). */
const listen = async (handler: HttpApiHandler): Promise<LocalGateway> => {
  if (process.env.PORT) {
    const port = Number(process.env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number`);
    return startLocalGateway({ handler, port });
  }
  if (smoke) return startLocalGateway({ handler });
  try {
    return await startLocalGateway({ handler, port: 3000 });
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'EADDRINUSE')) throw error;
    return startLocalGateway({ handler });
  }
};

const curlLine = (gatewayUrl: string, orderId: string, prefer = ''): string =>
  `curl -i -X POST ${gatewayUrl}/orders/acme -H 'content-type: application/json'${prefer} -d '{"orderId":"${orderId}"}'`;

const cartLine = (gatewayUrl: string, cartId: string, step: 'items' | 'count' | 'checkout'): string =>
  `curl -i -X POST ${gatewayUrl}/carts/${cartId}/${step} -H 'content-type: application/json'${
    step === 'checkout' ? '' : ` -d '{"sku":"${step === 'items' ? 'book' : 'pen'}","quantity":1}'`
  }`;

/**
 * The update-with-start route: a new cart started by an update, whose answer is the update's result
 * (the number of items in the cart), not a status URL.
 */
const smokeUpdate = async (gatewayUrl: string): Promise<void> => {
  const cartId = `smoke-${randomUUID()}`;
  const response = await fetch(`${gatewayUrl}/carts/${cartId}/count`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'pen', quantity: 1 }),
    signal: AbortSignal.timeout(RESULT_TIMEOUT_MS),
  });
  const body = await response.text();
  log(`POST /carts/${cartId}/count answered ${response.status}: ${body}`);
  const answer = JSON.parse(body) as { started?: boolean; update?: { status?: string; result?: unknown } };
  if (response.status !== 200 || answer.update?.status !== 'COMPLETED' || answer.update.result !== 1) {
    throw new Error('the update-with-start route did not answer with the update result');
  }
};

/**
 * Sends the curl line's request, waits for the workflow it started to complete, then reads it back
 * through `GET /workflows/{workflowId}`.
 */
const smokeTest = async (gatewayUrl: string, address: string, namespace: string): Promise<void> => {
  const orderId = `smoke-${randomUUID()}`;
  const response = await fetch(`${gatewayUrl}/orders/acme`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId }),
    signal: AbortSignal.timeout(RESULT_TIMEOUT_MS),
  });
  const body = await response.text();
  log(`POST /orders/acme answered ${response.status}: ${body}`);
  if (response.status !== 202) throw new Error(`expected 202 Accepted, got ${response.status}`);
  const { workflowId, runId } = JSON.parse(body) as { workflowId: string; runId: string };

  const connection = await Connection.connect({ address });
  try {
    const handle = new Client({ connection, namespace }).workflow.getHandle(workflowId, runId);
    const result = await connection.withAbortSignal(AbortSignal.timeout(RESULT_TIMEOUT_MS), () =>
      handle.result(),
    );
    console.log(JSON.stringify({ workflowId, runId, result }, null, 2));
    if (!JSON.stringify(result).includes(orderId)) throw new Error('the workflow result lacks the order');
  } finally {
    await connection.close();
  }

  const status = await fetch(`${gatewayUrl}/workflows/${encodeURIComponent(workflowId)}`, {
    signal: AbortSignal.timeout(RESULT_TIMEOUT_MS),
  });
  const statusBody = await status.text();
  log(`GET /workflows/${workflowId} answered ${status.status}: ${statusBody}`);
  const read = JSON.parse(statusBody) as { status?: string; runId?: string };
  if (status.status !== 200 || read.status !== 'COMPLETED' || read.runId !== runId) {
    throw new Error('the status endpoint does not show the completed run');
  }
};

const urlsOf = (sqs: LocalSqs | undefined, bus: LocalBus) => ({
  ...(sqs !== undefined && { sqsEndpoint: sqs.endpoint }),
  busUrl: bus.url,
});

/**
 * The routes file's queues in a local SQS server, polled for the sqs function, and the local event
 * bus for the eventbridge function. Without Java the queues are left out, and said so.
 */
const localTriggers = async (): Promise<{
  sqs: LocalSqs | undefined;
  bus: LocalBus;
  deployment: LocalDeployment;
}> => {
  const deployment = localDeployment();
  const [sqsModule, eventbridgeModule] = (await Promise.all([
    import(SQS_HANDLER.href),
    import(EVENTBRIDGE_HANDLER.href),
  ])) as [{ handler: LocalHandler }, { handler: LocalHandler }];
  const missing = elasticMqMissing();
  let sqs: LocalSqs | undefined;
  if (missing === undefined) {
    // A server that cannot be fetched or started (offline, say) leaves the rest of the stack running.
    const starting = startLocalSqs(deployment, { visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_S }).catch(
      (error: unknown) => {
        log(`no local SQS: ${describe(error)}; npm run send -- sqs is off`);
        return undefined;
      },
    );
    sqs = await begin('local SQS', starting, async (queues) => queues?.stop());
  } else {
    log(`no local SQS: ${missing} (ElasticMQ runs on Java, fetched with Maven); npm run send -- sqs is off`);
  }
  if (sqs !== undefined) {
    sqs.poll(sqsModule.handler, ({ queue, messageIds, failed, error }) => {
      if (messageIds.length === 0) log(`sqs: polling ${queue} failed: ${describe(error)}`);
      else if (error !== undefined)
        log(
          `sqs: ${queue}: the invocation failed (${describe(error)}); the batch of ${messageIds.length} returns`,
        );
      else
        log(
          `sqs: ${queue}: batch of ${messageIds.length}, ${failed.length} failed${failed.length > 0 ? ' (they return to the queue)' : ''}`,
        );
    });
  }
  const bus = await begin(
    'event bus',
    startLocalBus({
      deployment,
      handler: eventbridgeModule.handler,
      ...(sqs !== undefined && {
        deadLetters: { sqs: sqs.client, url: sqs.url(deployment.eventsDeadLetterQueue) },
      }),
      log: (message) => log(`bus: ${message}`),
    }),
    (b) => b.stop(),
  );
  return { sqs, bus, deployment };
};

type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The `npm run send` lines for the queues, rules and schedules of the routes file. */
const sendLines = (
  deployment: LocalDeployment,
  sqs: LocalSqs | undefined,
  bus: LocalBus,
  run: string,
): string[] => {
  const lines: string[] = [];
  const polled = deployment.queues.filter(({ mapping }) => mapping !== undefined);
  if (sqs !== undefined && polled.length > 0) {
    lines.push(
      `SQS       ${sqs.endpoint} (ElasticMQ): ${deployment.queues.map(({ name }) => name).join(', ')}, ${deployment.eventsDeadLetterQueue}`,
      'Send a message to a queue (the sqs function polls it):',
      ...polled.map((queue) => `  npm run send -- ${sendArgs(queue, `${run}-sqs`).join(' ')}`),
    );
  }
  const events = deployment.rules.filter(({ pattern }) => pattern !== undefined);
  const schedules = [
    ...deployment.rules.filter(({ schedule }) => schedule !== undefined).map(({ name }) => name),
    ...deployment.schedules.map(({ group, name }) => (group === 'default' ? name : `${group}/${name}`)),
  ];
  lines.push(
    `Event bus ${bus.url}: rules ${deployment.rules.map(({ name }) => name).join(', ') || '(none)'}`,
  );
  for (const { pattern } of events) {
    const [source] = (pattern?.source as string[] | undefined) ?? [];
    const [detailType] = (pattern?.['detail-type'] as string[] | undefined) ?? [];
    lines.push(
      'Put an event on the bus:',
      `  npm run send -- event ${source} ${detailType} '{"orderId":"${run}-event"}'`,
    );
  }
  if (schedules.length > 0)
    lines.push('Fire a schedule now:', ...schedules.map((name) => `  npm run send -- schedule ${name}`));
  return lines;
};

/**
 * `npm run send` arguments for an order to a queue, with the message attributes its route asks for
 * (routes.json's orders queue takes `kind=order`) and, for FIFO, a message group. `quote` shell-quotes
 * the body for a line to paste.
 */
const sendArgs = (queue: LocalQueue, orderId: string, quote = true): string[] => {
  const body = JSON.stringify({ orderId });
  return [
    'sqs',
    queue.name,
    quote ? `'${body}'` : body,
    ...Object.entries(queue.routeAttributes ?? {}).flatMap(([name, value]) => ['--attr', `${name}=${value}`]),
    ...(queue.fifo ? ['--group', 'orders'] : []),
  ];
};

/**
 * `npm run send` for each trigger, as a newcomer runs it: a message to the first polled queue, an
 * event through the first rule, the first schedule; each must start a workflow the workers complete.
 */
const smokeSend = async (stack: Stack, deployment: LocalDeployment): Promise<void> => {
  const connection = await Connection.connect({ address: stack.address });
  try {
    const client = new Client({ connection, namespace: stack.namespace });
    const completed = async (workflowId: string) => {
      const until = Date.now() + RESULT_TIMEOUT_MS;
      for (;;) {
        const description = await client.workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => undefined);
        if (description?.status.name === 'COMPLETED') return;
        if (Date.now() > until) throw new Error(`workflow ${workflowId} did not complete`);
        await sleep(200);
      }
    };
    const queue = deployment.queues.find(({ mapping }) => mapping !== undefined);
    if (stack.sqsEndpoint !== undefined && queue !== undefined) {
      const orderId = `smoke-${randomUUID()}`;
      log((await send(sendArgs(queue, orderId, false), stack)).lines.join('\n'));
      await completed(`order-${orderId}`);
      log(`the message to ${queue.name} started order-${orderId}, which completed`);
    }
    const rule = deployment.rules.find(({ pattern }) => pattern !== undefined);
    if (rule !== undefined) {
      const [source] = (rule.pattern?.source as string[] | undefined) ?? [];
      const [detailType] = (rule.pattern?.['detail-type'] as string[] | undefined) ?? [];
      const orderId = `smoke-${randomUUID()}`;
      const sent = await send(
        ['event', String(source), String(detailType), JSON.stringify({ orderId })],
        stack,
      );
      log(sent.lines.join('\n'));
      if (!sent.ok) throw new Error('the event was not delivered');
      await completed(`order-${orderId}`);
    }
    const schedule = deployment.rules.find(({ schedule }) => schedule !== undefined);
    if (schedule !== undefined) {
      const fired = await send(['schedule', schedule.name], stack);
      log(fired.lines.join('\n'));
      const workflowId = /workflow (\S+?)[,)]/.exec(fired.lines.join('\n'))?.[1];
      if (!fired.ok || workflowId === undefined)
        throw new Error(`the schedule ${schedule.name} started nothing`);
      await completed(workflowId);
    }
  } finally {
    await connection.close();
  }
};

/** The summaries of the metrics the handler printed (metricsSummary.ts). */
const metricSummaries: string[] = [];

/** The smoke run's start and update-with-start were counted, each as a start of its route. */
const smokeMetrics = (): void => {
  for (const expected of ['http orders-api processOrder started', 'http cart-count cart started']) {
    if (!metricSummaries.some((summary) => summary.includes(`] ${expected}: Actions 1, StartLatency `))) {
      throw new Error(`no metrics line for ${expected}; the handler printed:\n${metricSummaries.join('\n')}`);
    }
  }
};

const main = async (): Promise<void> => {
  // The build runs in a child that ends by itself: a signal meanwhile stops the rest from starting.
  if (!noBuild) await begin('build', build(), async () => {});
  if (!existsSync(HANDLER)) {
    throw new Error(
      `${fileURLToPath(HANDLER)} is missing: run npm run build, or npm start without --no-build`,
    );
  }
  const server = await begin('Temporal dev server', startDevServer({ ui: true }), (s) => s.stop());
  const { address, namespace, uiUrl } = server;
  const workers = startExampleWorkers({ address, namespace, taskQueues: TASK_QUEUES });
  await begin('workers', workers, (w) => w.stop());

  // The handler reads its configuration at first use, so this must come before it runs.
  process.env.TEMPORAL_ADDRESS = address;
  process.env.TEMPORAL_NAMESPACE = namespace;
  // Each metrics line the handler prints (CloudWatch's embedded format) shows as one readable line.
  summarizeMetrics(process.stdout, (summary) => {
    metricSummaries.push(summary);
    process.stderr.write(`${summary}\n`);
  });
  const { handler } = (await import(HANDLER.href)) as { handler: HttpApiHandler };
  const gateway = await begin('gateway', listen(handler), (g) => g.close());
  const { sqs, bus, deployment } = await localTriggers();

  if (smoke) {
    const interrupted = stopRequested.then(() => Promise.reject(new InterruptedError('smoke test stopped')));
    const smokeTests = async () => {
      await smokeTest(gateway.url, address, namespace);
      await smokeUpdate(gateway.url);
      smokeMetrics();
      await smokeSend(
        { address, namespace, gatewayUrl: gateway.url, pid: process.pid, ...urlsOf(sqs, bus) },
        deployment,
      );
    };
    return Promise.race([smokeTests(), interrupted]);
  }

  const stack = { address, namespace, uiUrl, gatewayUrl: gateway.url, pid: process.pid, ...urlsOf(sqs, bus) };
  // Fresh IDs each run: the curl lines start new workflows, never the example event files' (order 1001).
  const run = randomUUID().slice(0, 8);
  const [order, waited, cart] = [`${run}-1`, `${run}-2`, run];
  await begin('stack file', writeStack(stack), removeStack);
  console.log(
    [
      '',
      `Temporal  ${address} (namespace ${namespace})`,
      `Web UI    ${uiUrl ?? '(none: using the server at TEMPORAL_ADDRESS)'}`,
      `Workers   task queues ${TASK_QUEUES.join(', ')}`,
      `Gateway   ${gateway.url} -> dist/http/index.mjs`,
      `Stack     ${STACK_FILE}`,
      '',
      'Start a workflow:',
      `  ${curlLine(gateway.url, order)}`,
      ...(uiUrl ? [`  then see it at ${uiUrl}/namespaces/${namespace}/workflows/order-${order}`] : []),
      'Read its status and result:',
      `  curl -i ${gateway.url}/workflows/order-${order}`,
      'Start one and wait up to 10 s for its result:',
      `  ${curlLine(gateway.url, waited, " -H 'prefer: wait=10'")}`,
      'Add an item to a cart, starting its workflow (signal-with-start):',
      `  ${cartLine(gateway.url, cart, 'items')}`,
      'Add one more and get the count back (update-with-start, answered with the update result):',
      `  ${cartLine(gateway.url, cart, 'count')}`,
      'Check the cart out (an update of the running workflow):',
      `  ${cartLine(gateway.url, cart, 'checkout')}`,
      ...sendLines(deployment, sqs, bus, run),
      'Invoke a handler with an event file:',
      '  npm run invoke -- sqs|eventbridge|http <event.json>',
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await stopRequested;
};

try {
  await main();
} catch (error) {
  if (!(error instanceof InterruptedError)) {
    log(`failed: ${describe(error)}`);
    process.exitCode = 1;
  }
} finally {
  await stopAll();
}
// The handler keeps its Temporal connection open, as it would between Lambda invocations; don't wait on it.
process.exit();
