import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { startExampleWorkers } from '../example/worker.ts';
import { build } from './build.ts';
import { type HttpApiHandler, type LocalGateway, startLocalGateway } from './localGateway.ts';
import { summarizeMetrics } from './metricsSummary.ts';
import { removeStack, STACK_FILE, writeStack } from './stackFile.ts';
import { startDevServer } from './temporalServer.ts';

/**
 * `npm start`: a Temporal dev server with its web UI, workers for the example workflows, and the built
 * HTTP handler behind a local API Gateway. It runs until SIGINT or SIGTERM. With `--smoke` (or
 * START_SMOKE=1) it sends one request instead, waits for the workflow's result and exits.
 */

const smoke = process.argv.includes('--smoke') || process.env.START_SMOKE === '1';
/** `--no-build`: serve the bundles already in dist/. */
const noBuild = process.argv.includes('--no-build');
const HANDLER = new URL('../dist/http/index.mjs', import.meta.url);
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

  if (smoke) {
    const interrupted = stopRequested.then(() => Promise.reject(new InterruptedError('smoke test stopped')));
    const smokeTests = async () => {
      await smokeTest(gateway.url, address, namespace);
      await smokeUpdate(gateway.url);
      smokeMetrics();
    };
    return Promise.race([smokeTests(), interrupted]);
  }

  const stack = { address, namespace, uiUrl, gatewayUrl: gateway.url, pid: process.pid };
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
      'Invoke the other handlers with an event file:',
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
