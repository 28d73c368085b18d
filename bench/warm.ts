import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { Client, Connection } from '@temporalio/client';
import type { Context, SQSEvent } from 'aws-lambda';
import { lambdaContext } from '../scripts/lambdaContext.ts';
import { httpEvent, sqsEvent, sqsRecord } from '../test/helpers/events.ts';
import { startTcpProxy } from '../test/helpers/tcpProxy.ts';
import { rotate } from './stats.ts';

/**
 * Warm measurements, in a child process of bench/run.ts: a built handler and a raw Temporal client
 * in one process against the same server, their calls interleaved so both see the same noise.
 * Usage: node bench/warm.ts <warm|metrics|memory|batch|latency> <bundle> <runId>; results go to the parent
 * over IPC.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const [mode, bundle, runId = 'bench'] = process.argv.slice(2);
const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
const nextId = (kind: string) => `${runId}-${kind}-${crypto.randomUUID()}`;

const loadHandler = async (path = bundle): Promise<Handler> => {
  if (path === undefined) throw new Error('usage: warm.ts <mode> <bundle> [runId]');
  return ((await import(path)) as { handler: Handler }).handler;
};

const elapsed = async (call: () => Promise<unknown>): Promise<number> => {
  const start = performance.now();
  await call();
  return performance.now() - start;
};

const youngGenerationUsed = (): number =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? 0;

/**
 * Wall time and this process's CPU time of one call, in milliseconds, and the bytes it allocated in
 * V8's young generation, where short-lived objects go: unknown when a collection ran during the call.
 */
const measured = async (
  call: () => Promise<unknown>,
): Promise<{ ms: number; cpuMs: number; allocated: number | undefined }> => {
  const young = youngGenerationUsed();
  const cpu = process.cpuUsage();
  const ms = await elapsed(call);
  const { user, system } = process.cpuUsage(cpu);
  const grown = youngGenerationUsed() - young;
  return { ms, cpuMs: (user + system) / 1000, allocated: grown > 0 ? grown : undefined };
};

const template = httpEvent({ path: '/orders/acme', body: {} });

/**
 * One HTTP start through the handler, as a function that runs it; throws unless the handler answered
 * 202. The event and context are made beforehand, so that timing the call times only the handler.
 */
const httpStart = (handler: Handler): (() => Promise<void>) => {
  const event = { ...template, body: JSON.stringify({ orderId: nextId('http') }) };
  const context = lambdaContext({ functionName: 'http' });
  return async () => {
    const response = (await handler(event, context)) as { statusCode: number };
    if (response.statusCode !== 202) throw new Error(`handler answered ${JSON.stringify(response)}`);
  };
};

const rawClient = async (): Promise<{ client: Client; close(): Promise<void> }> => {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
};

/** One raw `client.workflow.start`, as a function that runs it, like `httpStart`. */
const rawStart = (client: Client): (() => Promise<void>) => {
  const orderId = nextId('raw');
  const options = { taskQueue: 'orders', workflowId: `order-${orderId}`, args: [{ orderId }] };
  return async () => {
    await client.workflow.start('processOrder', options);
  };
};

type Sample = { ms: number; cpuMs: number; allocated: number | undefined };

/**
 * Two kinds of call measured against each other: 20 warm-up rounds (connections, the JIT), then
 * `count` of each, alternating which goes first, so both see the same noise.
 */
const alternate = async (
  count: number,
  first: () => () => Promise<void>,
  second: () => () => Promise<void>,
): Promise<[Sample[], Sample[]]> => {
  for (let i = 0; i < 20; i += 1) {
    await first()();
    await second()();
  }
  const samples: [Sample[], Sample[]] = [[], []];
  for (let i = 0; i < count; i += 1) {
    const pair = [
      async () => samples[0].push(await measured(first())),
      async () => samples[1].push(await measured(second())),
    ];
    for (const step of i % 2 === 0 ? pair : pair.reverse()) await step();
  }
  return samples;
};

const times = (samples: Sample[]) => samples.map((sample) => sample.ms);
const cpuTimes = (samples: Sample[]) => samples.map((sample) => sample.cpuMs);
const allocations = (samples: Sample[]) =>
  samples.flatMap((sample) => (sample.allocated === undefined ? [] : [sample.allocated]));

/** Per-call latencies of the handler and of the raw client. */
const warm = async (count: number) => {
  const handler = await loadHandler();
  const raw = await rawClient();
  const [handlerSamples, rawSamples] = await alternate(
    count,
    () => httpStart(handler),
    () => rawStart(raw.client),
  );
  await raw.close();
  return {
    handlerMs: times(handlerSamples),
    rawMs: times(rawSamples),
    handlerCpuMs: cpuTimes(handlerSamples),
    rawCpuMs: cpuTimes(rawSamples),
    handlerAllocated: allocations(handlerSamples),
    rawAllocated: allocations(rawSamples),
  };
};

/**
 * What the metrics cost a warm start: the http function as built, against the same function built
 * without them (bench/noMetrics.ts, the bundle BENCH_REFERENCE names), in one process. Each has its
 * own connection to the server; the handler's output goes where the process's stdout goes, as in
 * Lambda.
 */
const metricsCost = async (count: number) => {
  const reference = process.env.BENCH_REFERENCE;
  if (reference === undefined) throw new Error('BENCH_REFERENCE names the bundle without metrics');
  const [withMetrics, without] = [await loadHandler(), await loadHandler(reference)];
  const [on, off] = await alternate(
    count,
    () => httpStart(withMetrics),
    () => httpStart(without),
  );
  return { onMs: times(on), offMs: times(off), onCpuMs: cpuTimes(on), offCpuMs: cpuTimes(off) };
};

/**
 * Memory after 10 and after `count` invocations of the handler alone: resident set size as it is,
 * then the live heap after a full collection (run with --expose-gc) and the young generation's size,
 * which tell a leak from V8 growing its heap.
 */
const memory = async (count: number) => {
  const handler = await loadHandler();
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: Record<number, { rss: number; liveHeap: number; newSpace: number }> = {};
  for (let i = 1; i <= count; i += 1) {
    await httpStart(handler)();
    if (i === 10 || i === count) {
      const { rss } = process.memoryUsage();
      const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
      gc?.();
      samples[i] = { rss, liveHeap: process.memoryUsage().heapUsed, newSpace: newSpace?.space_size ?? 0 };
    }
  }
  return samples;
};

/** Wall times of calls, and the gRPC calls they made in all. */
export interface LatencyPhase {
  readonly ms: number[];
  readonly rpcs: number;
}

/**
 * Round trips: the bundle behind a proxy that delays every byte by `delayMs` each way, as a network
 * would, and counts the gRPC calls. Three phases: the first invocation (importing the bundle, then one
 * start), `count` warm starts back to back, and `idleRuns` starts each after `idleMs` of silence, longer
 * than the keepalive time the parent sets (TEMPORAL_KEEPALIVE_TIME_MS), as for a function invoked now
 * and then. The proxy is this process's, so that it counts this bundle's calls alone.
 */
const latency = async (delayMs: number, count: number, idleMs: number, idleRuns: number) => {
  const proxy = await startTcpProxy(address, { delayMs });
  process.env.TEMPORAL_ADDRESS = proxy.address;
  const phase = async (runs: number, call: () => Promise<number>): Promise<LatencyPhase> => {
    const before = proxy.rpcs;
    const ms: number[] = [];
    for (let i = 0; i < runs; i += 1) ms.push(await call());
    return { ms, rpcs: proxy.rpcs - before };
  };
  let handler: Handler | undefined;
  const first = await phase(1, () =>
    elapsed(async () => {
      handler = await loadHandler();
      await httpStart(handler)();
    }),
  );
  const loaded = handler as Handler;
  const warmStarts = await phase(count, () => elapsed(httpStart(loaded)));
  const idle = await phase(idleRuns, async () => {
    await sleep(idleMs);
    return elapsed(httpStart(loaded));
  });
  await proxy.close();
  return { first, warm: warmStarts, idle };
};

const sqsBatch = (size: number): SQSEvent =>
  sqsEvent(...Array.from({ length: size }, () => sqsRecord({ orderId: nextId('sqs') })));

const sqsInvoke = async (handler: Handler, event: SQSEvent): Promise<void> => {
  const response = (await handler(event, lambdaContext({ functionName: 'sqs' }))) as {
    batchItemFailures: unknown[];
  };
  if (response.batchItemFailures.length > 0) throw new Error(`batch failures: ${JSON.stringify(response)}`);
};

/** Runs the calls with at most `concurrency` in flight. */
const pool = async (calls: readonly (() => Promise<void>)[], concurrency: number): Promise<void> => {
  let next = 0;
  const lane = async () => {
    while (next < calls.length) {
      const call = calls[next] as () => Promise<void>;
      next += 1;
      await call();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
};

/**
 * An SQS batch of 10 against a batch of 1, interleaved; then throughput: batches of 10 through the
 * handler one after another (as one Lambda environment receives them), against raw client starts
 * with the same number in flight, and against raw client starts in groups of 10, each group awaited
 * before the next begins: the shape of a batch, without the handler.
 */
const batch = async (repetitions: number, batches: number) => {
  const concurrency = Number(process.env.SQS_CONCURRENCY ?? 10);
  const handler = await loadHandler();
  const raw = await rawClient();
  for (let i = 0; i < 5; i += 1) await sqsInvoke(handler, sqsBatch(10));
  await pool(
    Array.from({ length: 50 }, () => rawStart(raw.client)),
    concurrency,
  );

  // The same comparison for raw client calls shows what the server itself makes of 10 at once.
  const samples: Record<'singleMs' | 'tenMs' | 'rawSingleMs' | 'rawTenMs', number[]> = {
    singleMs: [],
    tenMs: [],
    rawSingleMs: [],
    rawTenMs: [],
  };
  // Each step makes its events first, so that the timing covers only the calls.
  const sqsCall = (size: number) => {
    const event = sqsBatch(size);
    return () => sqsInvoke(handler, event);
  };
  const rawTen = () => {
    const starts = Array.from({ length: 10 }, () => rawStart(raw.client));
    return () => Promise.all(starts.map((start) => start()));
  };
  const steps: [keyof typeof samples, () => () => Promise<unknown>][] = [
    ['singleMs', () => sqsCall(1)],
    ['tenMs', () => sqsCall(10)],
    ['rawSingleMs', () => rawStart(raw.client)],
    ['rawTenMs', rawTen],
  ];
  for (let i = 0; i < repetitions; i += 1) {
    for (const [key, prepare] of rotate(steps, i)) samples[key].push(await elapsed(prepare()));
  }

  // Throughput in rounds, alternating the two, so that both see the same load on the machine.
  let handlerMs = 0;
  let rawMs = 0;
  let rawGroupsMs = 0;
  const rounds = 5;
  const perRound = Math.ceil(batches / rounds);
  for (let round = 0; round < rounds; round += 1) {
    const calls = Array.from({ length: perRound }, () => sqsCall(10));
    handlerMs += await elapsed(async () => {
      for (const call of calls) await call();
    });
    const starts = Array.from({ length: perRound * 10 }, () => rawStart(raw.client));
    rawMs += await elapsed(() => pool(starts, concurrency));
    const groups = Array.from({ length: perRound }, rawTen);
    rawGroupsMs += await elapsed(async () => {
      for (const group of groups) await group();
    });
  }
  await raw.close();
  const starts = rounds * perRound * 10;
  return {
    concurrency,
    ...samples,
    handlerStartsPerSecond: (starts / handlerMs) * 1000,
    rawStartsPerSecond: (starts / rawMs) * 1000,
    rawGroupStartsPerSecond: (starts / rawGroupsMs) * 1000,
  };
};

const run = async (): Promise<unknown> => {
  switch (mode) {
    case 'warm':
      return warm(Number(process.env.BENCH_COUNT ?? 1000));
    case 'metrics':
      return metricsCost(Number(process.env.BENCH_COUNT ?? 1000));
    case 'memory':
      return memory(Number(process.env.BENCH_COUNT ?? 1000));
    case 'batch':
      return batch(Number(process.env.BENCH_REPETITIONS ?? 20), Number(process.env.BENCH_BATCHES ?? 50));
    case 'latency':
      return latency(
        Number(process.env.BENCH_DELAY_MS ?? 20),
        Number(process.env.BENCH_COUNT ?? 30),
        Number(process.env.BENCH_IDLE_MS ?? 1500),
        Number(process.env.BENCH_IDLE_RUNS ?? 5),
      );
    default:
      throw new Error(`unknown mode ${mode}`);
  }
};

if (import.meta.main) {
  const result = await run();
  // The handler's and the raw client's connections would keep the process alive.
  if (process.send) process.send(result, () => process.exit(0));
  else process.exit(0);
}
