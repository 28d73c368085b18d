import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { BUDGET_BYTES, FUNCTIONS as BUILT, buildAll, bundle, REQUIRE_SHIM } from '../infra/build.ts';
import { isStopping, onStop } from '../scripts/progress.ts';
import { startDevServer } from '../scripts/temporalServer.ts';
import { eventBridgeEvent, httpEvent, sqsEvent, sqsRecord } from '../test/helpers/events.ts';
import { startTcpProxy } from '../test/helpers/tcpProxy.ts';
import { median, percentile, ratio, rotate } from './stats.ts';

/** The functions benched: the example routes the build bundles have no stream route to start one with. */
const FUNCTIONS = BUILT.filter((name) => name !== 'streams');

/**
 * `npm run bench`: the built functions against the handler a user would write from Temporal's docs
 * (bench/baseline/handler.ts), and against raw client calls, in one run. Cold starts of the project
 * and the baseline are interleaved and reported as medians and ratios, because shared machines are
 * noisy. Prints a table and writes bench/results.json. Options: --rounds (cold starts per bundle),
 * --count (warm invocations).
 */

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    'first-rounds': { type: 'string', default: '7' },
    count: { type: 'string', default: '1000' },
  },
});
const ROUNDS = Number(options.rounds);
const FIRST_ROUNDS = Number(options['first-rounds']);
const COUNT = Number(options.count);
const MB = 1_000_000;
const runId = `bench-${Date.now().toString(36)}`;
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const child = <T>(command: string, args: string[], env: Record<string, string | undefined>) =>
  new Promise<T>((resolve, reject) => {
    const proc = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const forget = onStop(() => {
      proc.kill('SIGKILL');
    });
    let stderr = '';
    let message: T | undefined;
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on('message', (value) => {
      message = value as T;
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 300_000);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      forget();
      // Killed by a stop: the cleanup ends the process; a rejection would only add a stack trace.
      if (isStopping()) return;
      if (message !== undefined) resolve(message);
      else
        reject(
          new Error(`${[command, ...args].join(' ')} ended (${code ?? signal}) without a result:\n${stderr}`),
        );
    });
  });

/** The handler a user would write, bundled as Temporal's and esbuild's docs show. */
const buildBaseline = async (outdir: string): Promise<number> => {
  const outfile = join(outdir, 'index.mjs');
  const { metafile } = await build({
    entryPoints: ['bench/baseline/handler.ts'],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    banner: { js: REQUIRE_SHIM },
    metafile: true,
    logLevel: 'warning',
  });
  return Object.values(metafile.outputs).find((output) => output.entryPoint)?.bytes ?? 0;
};

interface ColdStart {
  importMs: number;
  readyMs: number;
  importCpuMs: number;
  invokeMs?: number;
  result?: unknown;
}

// A network namespace of its own (loopback only, down) proves the import opens no connection.
const isolated = spawnSync('unshare', ['-rn', 'true']).status === 0;
const coldStart = (bundle: string, event?: unknown, env: Record<string, string> = {}) => {
  const node = [process.execPath, 'bench/coldStart.mjs', bundle];
  const [command, ...args] = event === undefined && isolated ? ['unshare', '-rn', ...node] : node;
  return child<ColdStart>(command as string, args, {
    PATH: process.env.PATH,
    ...env,
    ...(event !== undefined && { BENCH_EVENT: JSON.stringify(event) }),
  });
};

const orderId = (kind: string) => `${runId}-${kind}-first-${crypto.randomUUID()}`;
const firstEvents: Record<string, () => unknown> = {
  baseline: () => httpEvent({ path: '/orders/acme', body: { orderId: orderId('baseline') } }),
  http: () => httpEvent({ path: '/orders/acme', body: { orderId: orderId('http') } }),
  sqs: () => sqsEvent(sqsRecord({ orderId: orderId('sqs') })),
  eventbridge: () => eventBridgeEvent({ orderId: orderId('eventbridge') }),
};
const startedOk = (name: string, result: unknown): boolean => {
  const value = result as { statusCode?: number; batchItemFailures?: unknown[]; started?: boolean };
  if (name === 'sqs') return value.batchItemFailures?.length === 0;
  if (name === 'eventbridge') return value.started === true;
  return value.statusCode === 202;
};

interface Check {
  readonly metric: string;
  readonly value: number;
  readonly target: string;
  readonly met: boolean;
  /** Why a missed target is missed, printed under the table. */
  readonly gap?: string;
}

const COMPARE = {
  '≤': (value: number, limit: number) => value <= limit,
  '<': (value: number, limit: number) => value < limit,
  '≥': (value: number, limit: number) => value >= limit,
  '=': (value: number, limit: number) => value === limit,
};

/** A target: `value` against `limit`, shown as for example `≤ 0.50×`. */
const check = (
  metric: string,
  value: number,
  [op, limit, shown]: [keyof typeof COMPARE, number, string],
  gap?: string,
): Check => ({ metric, value, target: `${op} ${shown}`, met: COMPARE[op](value, limit), gap });

/** The http function built with bench/noMetrics.ts for lib/metrics.ts: the metrics' reference. */
const WITHOUT_METRICS = 'http-without-metrics';

const buildWithoutMetrics = async (outdir: string): Promise<void> => {
  const stub = resolve('bench/noMetrics.ts');
  const noMetrics: Plugin = {
    name: 'no-metrics',
    setup(build) {
      build.onResolve({ filter: /^#lib\/metrics\.ts$/ }, () => ({ path: stub }));
    },
  };
  const { metafile } = await bundle(WITHOUT_METRICS, 'functions/http.ts', outdir, undefined, (options) => ({
    ...options,
    plugins: [noMetrics, ...(options.plugins ?? [])],
  }));
  // Proof the reference is what it claims: the stub is in it, and lib/metrics.ts and Powertools Metrics are not.
  const inputs = Object.keys(metafile.inputs);
  if (
    !inputs.includes('bench/noMetrics.ts') ||
    inputs.some((input) => /lib\/metrics\.ts|powertools\/metrics/.test(input))
  ) {
    throw new Error(
      `${WITHOUT_METRICS}: the metrics were not left out (${inputs.filter((input) => /metrics/.test(input))})`,
    );
  }
};

const main = async () => {
  const started = Date.now();
  const load = loadavg();
  log(`building (${cpus().length} CPUs, load ${load.map((value) => value.toFixed(2)).join(' ')})`);
  const bundles = await buildAll();
  const work = await mkdtemp(join(tmpdir(), 'bench-'));
  onStop(() => rm(work, { recursive: true, force: true }));
  const baselineBytes = await buildBaseline(join(work, 'baseline'));
  // Bundles run from a folder with no node_modules anywhere above it, as in a Lambda package.
  for (const name of FUNCTIONS) await cp(`dist/${name}`, join(work, name), { recursive: true });
  // The Temporal client alone, built the same way: how much of a function's init is the client's.
  await bundle('client', 'bench/clientOnly.ts', join(work, 'client'));
  await buildWithoutMetrics(join(work, WITHOUT_METRICS));
  const bundleOf = (name: string) => join(work, name, 'index.mjs');
  const targets = ['baseline', ...FUNCTIONS];

  try {
    const coldTargets = [...targets, 'client', WITHOUT_METRICS];
    log(`cold init: ${ROUNDS} rounds of ${coldTargets.join(', ')}${isolated ? ', without network' : ''}`);
    const cold: Record<string, ColdStart[]> = Object.fromEntries(coldTargets.map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const name of rotate(coldTargets, round)) cold[name]?.push(await coldStart(bundleOf(name)));
    }

    const server = await startDevServer();
    onStop(() => server.stop());
    try {
      const env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
      log(`cold first invocation: ${FIRST_ROUNDS} rounds against ${server.address}`);
      const first: Record<string, ColdStart[]> = Object.fromEntries(targets.map((name) => [name, []]));
      for (let round = 0; round < FIRST_ROUNDS; round += 1) {
        for (const name of rotate(targets, round)) {
          const sample = await coldStart(bundleOf(name), firstEvents[name]?.(), env);
          if (!startedOk(name, sample.result)) throw new Error(`${name}: ${JSON.stringify(sample.result)}`);
          first[name]?.push(sample);
        }
      }

      const childEnv = { PATH: process.env.PATH, ...env, BENCH_COUNT: String(COUNT) };
      log(`warm: ${COUNT} HTTP starts through the handler, interleaved with ${COUNT} raw client starts`);
      const warm = await child<Results['warm']>(
        process.execPath,
        ['bench/warm.ts', 'warm', bundleOf('http'), `${runId}-warm`],
        childEnv,
      );

      log(`metrics: ${COUNT} HTTP starts through the handler, interleaved with ${COUNT} without metrics`);
      const metrics = await child<Results['metrics']>(
        process.execPath,
        ['bench/warm.ts', 'metrics', bundleOf('http'), `${runId}-metrics`],
        { ...childEnv, BENCH_REFERENCE: bundleOf(WITHOUT_METRICS) },
      );

      log(`memory and connections: ${COUNT} HTTP starts through a counting TCP proxy, then the baseline's`);
      const proxy = await startTcpProxy(server.address);
      const memoryOf = (name: string, address: string) =>
        child<MemorySamples>(
          process.execPath,
          ['--expose-gc', 'bench/warm.ts', 'memory', bundleOf(name), `${runId}-memory-${name}`],
          { ...childEnv, TEMPORAL_ADDRESS: address },
        );
      const memory = {
        project: await memoryOf('http', proxy.address),
        baseline: await memoryOf('baseline', server.address),
      };
      const connections = proxy.forwarded;
      await proxy.close();

      log(
        `latency: ${LATENCY_DELAY_MS} ms each way through a proxy that counts gRPC calls: first, warm and after an idle gap`,
      );
      const latencyOf = (name: string) =>
        child<LatencyResult>(
          process.execPath,
          ['bench/warm.ts', 'latency', bundleOf(name), `${runId}-latency-${name}`],
          {
            ...childEnv,
            BENCH_DELAY_MS: String(LATENCY_DELAY_MS),
            BENCH_COUNT: String(LATENCY_COUNT),
            BENCH_IDLE_MS: String(LATENCY_IDLE_MS),
            BENCH_IDLE_RUNS: String(LATENCY_IDLE_RUNS),
            // A keepalive time below the gap makes each gap an idle one, as 30 s of silence does when deployed.
            TEMPORAL_KEEPALIVE_TIME_MS: String(LATENCY_KEEPALIVE_MS),
          },
        );
      const latency = { project: await latencyOf('http'), baseline: await latencyOf('baseline') };

      log('batch: SQS batches of 10 and of 1, and throughput against raw starts at the same concurrency');
      const batch = await child<Results['batch']>(
        process.execPath,
        ['bench/warm.ts', 'batch', bundleOf('sqs'), `${runId}-batch`],
        {
          ...childEnv,
          SQS_CONCURRENCY: process.env.SQS_CONCURRENCY,
        },
      );

      await report({
        bundles,
        baselineBytes,
        cold,
        first,
        warm,
        metrics,
        memory,
        connections,
        latency,
        batch,
        load,
        started,
      });
    } finally {
      await server.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
};

type MemorySamples = Record<number, { rss: number; liveHeap: number; newSpace: number }>;

/** The latency row's network: this many milliseconds each way (the proxy delays every byte). */
const LATENCY_DELAY_MS = 20;
const LATENCY_COUNT = 30;
const LATENCY_IDLE_MS = 1500;
const LATENCY_IDLE_RUNS = 10;
const LATENCY_KEEPALIVE_MS = 1000;

interface LatencyPhase {
  readonly ms: number[];
  readonly rpcs: number;
}
type LatencyResult = { first: LatencyPhase; warm: LatencyPhase; idle: LatencyPhase };

interface Results {
  bundles: { name: string; bytes: number }[];
  baselineBytes: number;
  cold: Record<string, ColdStart[]>;
  first: Record<string, ColdStart[]>;
  warm: {
    handlerMs: number[];
    rawMs: number[];
    handlerCpuMs: number[];
    rawCpuMs: number[];
    handlerAllocated: number[];
    rawAllocated: number[];
  };
  metrics: { onMs: number[]; offMs: number[]; onCpuMs: number[]; offCpuMs: number[] };
  memory: { project: MemorySamples; baseline: MemorySamples };
  connections: number;
  latency: { project: LatencyResult; baseline: LatencyResult };
  batch: {
    concurrency: number;
    singleMs: number[];
    tenMs: number[];
    rawSingleMs: number[];
    rawTenMs: number[];
    handlerStartsPerSecond: number;
    rawStartsPerSecond: number;
    rawGroupStartsPerSecond: number;
  };
  load: number[];
  started: number;
}

const ms = (value: number, digits = 1) => `${value.toFixed(digits)} ms`;
const round1 = (value: number) => Math.round(value * 10) / 10;

const report = (results: Results) => {
  const { bundles, baselineBytes, cold, first, warm, memory, connections, batch } = results;
  const rows: string[][] = [];
  const checks: Check[] = [];
  const row = (metric: string, project: string, reference: string, value: number | string, goal?: Check) => {
    rows.push([
      metric,
      project,
      reference,
      String(value),
      goal?.target ?? '',
      goal ? (goal.met ? 'yes' : 'NO') : '',
    ]);
    if (goal) checks.push(goal);
  };
  /** A row comparing `value` with `reference`, and their ratio, which `goal` may check. */
  const versus = (
    metric: string,
    [value, reference]: [number, number],
    format: (value: number) => string,
    goal?: (ratio: number) => Check,
  ) => {
    const r = ratio(value, reference);
    row(metric, format(value), format(reference), r, goal?.(r));
    return r;
  };
  const summary: Record<string, unknown> = {};

  for (const { name, bytes } of bundles) {
    versus(
      `bundle size, ${name}`,
      [bytes, baselineBytes],
      (value) => `${(value / MB).toFixed(2)} MB`,
      () => check(`bundle ${name}`, bytes, ['≤', BUDGET_BYTES, `${BUDGET_BYTES / MB} MB`]),
    );
  }
  summary.sizes = { baseline: baselineBytes, ...Object.fromEntries(bundles.map((b) => [b.name, b.bytes])) };

  const coldBaseline = median((cold.baseline ?? []).map((s) => s.importMs));
  const clientAlone = median((cold.client ?? []).map((s) => s.importMs));
  const functionsMedian = median(FUNCTIONS.map((name) => median((cold[name] ?? []).map((s) => s.importMs))));
  const coldGap =
    `the Temporal client alone, built the same way, takes ${ms(clientAlone)} to import ` +
    `(${ratio(clientAlone, coldBaseline)}× the baseline: Node's http2 and tls, grpc-js, protobufjs ` +
    `building the trimmed descriptor's skeleton, @temporalio/client); the handler's own code and libraries ` +
    `(middy and its HTTP middlewares, the Powertools logger and metrics, envconfig and its TOML parser, ` +
    `compiling the routes, and V8 compiling all of it) add about ${ms(functionsMedian - clientAlone)}; ` +
    'a first invocation adds the connect, the first start and the code V8 and protobufjs generate for it';
  summary.coldInit = {};
  for (const name of FUNCTIONS) {
    const samples = cold[name] ?? [];
    const value = median(samples.map((s) => s.importMs));
    const r = versus(`cold init, ${name} (import)`, [value, coldBaseline], ms, (rate) =>
      check(`cold init ${name}`, rate, ['≤', 0.45, '0.45×'], coldGap),
    );
    (summary.coldInit as Record<string, unknown>)[name] = {
      importMs: round1(value),
      readyMs: round1(median(samples.map((s) => s.readyMs))),
      importCpuMs: round1(median(samples.map((s) => s.importCpuMs))),
      ratio: r,
    };
  }
  versus('  of which the Temporal client alone', [clientAlone, coldBaseline], ms);
  const withoutMetrics = median((cold[WITHOUT_METRICS] ?? []).map((s) => s.importMs));
  const httpCold = median((cold.http ?? []).map((s) => s.importMs));
  versus('cold init, http, metrics vs none', [httpCold, withoutMetrics], ms, (r) =>
    check('metrics: cold init', r, ['≤', 1.05, '1.05×'], 'importing Powertools Metrics and lib/metrics.ts'),
  );
  (summary.coldInit as Record<string, unknown>).clientAlone = { importMs: round1(clientAlone) };
  const baselineReady = median((cold.baseline ?? []).map((s) => s.readyMs));
  const httpReady = median((cold.http ?? []).map((s) => s.readyMs));
  versus('  process start to handler ready, http', [httpReady, baselineReady], ms);
  (summary.coldInit as Record<string, unknown>).baseline = {
    importMs: round1(coldBaseline),
    readyMs: round1(baselineReady),
    importCpuMs: round1(median((cold.baseline ?? []).map((s) => s.importCpuMs))),
  };

  const total = (s: ColdStart) => s.readyMs + (s.invokeMs ?? 0);
  const firstBaseline = median((first.baseline ?? []).map(total));
  summary.firstInvocation = {};
  for (const name of ['baseline', ...FUNCTIONS]) {
    const samples = first[name] ?? [];
    const entry = {
      totalMs: round1(median(samples.map(total))),
      importMs: round1(median(samples.map((s) => s.importMs))),
      invokeMs: round1(median(samples.map((s) => s.invokeMs ?? 0))),
    };
    (summary.firstInvocation as Record<string, unknown>)[name] = entry;
    if (name !== 'baseline') {
      versus(`cold first invocation, ${name}`, [entry.totalMs, firstBaseline], ms, (r) =>
        check(`cold first invocation ${name}`, r, ['≤', 0.55, '0.55×'], coldGap),
      );
    }
  }

  const [p50, p99, rawP50, rawP99] = [
    percentile(warm.handlerMs, 50),
    percentile(warm.handlerMs, 99),
    percentile(warm.rawMs, 50),
    percentile(warm.rawMs, 99),
  ];
  const [cpu, rawCpu] = [median(warm.handlerCpuMs), median(warm.rawCpuMs)];
  const [allocated, rawAllocated] = [median(warm.handlerAllocated), median(warm.rawAllocated)];
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const warmGap =
    `a warm start through the handler costs ${ms(cpu - rawCpu, 2)} more CPU than a raw start ` +
    '(measured piece by piece, docs/performance.md: the Powertools logger and its INFO line about 0.07 ms, ' +
    'the bookkeeping of performAction 0.05 ms, the call deadline 0.03 ms, middy, metrics, parsing, ' +
    'routing, templates, the memo and the connection lookup 0.02 ms or less each, and about 0.1 ms more ' +
    'garbage collection; a build without metrics, middy and the log line still costs 1.33× a raw start), ' +
    `${ms(p50 - rawP50, 2)} more at the median; it allocates ${kb(allocated)} per start against ` +
    `${kb(rawAllocated)}, which the young generation's collections pay for`;
  versus('warm start p50, http', [p50, rawP50], ms, (r) =>
    check('warm p50', r, ['≤', 1.05, '1.05×'], warmGap),
  );
  versus('warm start p99, http', [p99, rawP99], ms);
  versus(
    'CPU time per warm start, median',
    [cpu, rawCpu],
    (value) => ms(value, 2),
    (r) => check('warm CPU', r, ['≤', 1.15, '1.15×'], warmGap),
  );
  versus('  bytes allocated per warm start, median', [allocated, rawAllocated], kb);
  const metricsOn = percentile(results.metrics.onMs, 50);
  const metricsOff = percentile(results.metrics.offMs, 50);
  const [metricsCpu, noMetricsCpu] = [median(results.metrics.onCpuMs), median(results.metrics.offCpuMs)];
  const metricsGap = `counting an HTTP start and writing its two metric lines costs ${ms(metricsCpu - noMetricsCpu, 3)} of CPU`;
  versus('warm start p50, http, metrics vs none', [metricsOn, metricsOff], ms, (r) =>
    check('metrics: warm p50', r, ['≤', 1.05, '1.05×'], metricsGap),
  );
  versus('  CPU per warm start, metrics vs none', [metricsCpu, noMetricsCpu], (value) => ms(value, 3));
  const connectionsCheck = check('connections', connections, ['=', 1, '1']);
  row(`TCP connections over ${COUNT} invocations`, String(connections), '', '', connectionsCheck);

  // Round trips: what each invocation costs on a network of LATENCY_DELAY_MS each way, with its calls.
  const { latency } = results;
  summary.latency = { delayMsEachWay: LATENCY_DELAY_MS };
  for (const [phase, label] of [
    ['first', 'first invocation (import and one start)'],
    ['warm', 'warm start p50'],
    ['idle', `start after ${LATENCY_IDLE_MS / 1000} s idle, p50`],
  ] as const) {
    const ours = latency.project[phase];
    const theirs = latency.baseline[phase];
    const calls = (entry: LatencyPhase) => round1(entry.rpcs / entry.ms.length);
    versus(
      `${LATENCY_DELAY_MS} ms network: ${label}`,
      [percentile(ours.ms, 50), percentile(theirs.ms, 50)],
      ms,
    );
    row(
      '  RPCs per invocation',
      String(calls(ours)),
      String(calls(theirs)),
      '',
      check(`RPCs, ${phase}`, calls(ours), ['=', 1, '1'], `${calls(ours)} calls per invocation`),
    );
    (summary.latency as Record<string, unknown>)[phase] = {
      projectMs: round1(percentile(ours.ms, 50)),
      baselineMs: round1(percentile(theirs.ms, 50)),
      projectRpcs: calls(ours),
      baselineRpcs: calls(theirs),
    };
  }

  const [single, ten] = [median(batch.singleMs), median(batch.tenMs)];
  const [rawSingle, rawTen] = [median(batch.rawSingleMs), median(batch.rawTenMs)];
  const batchGap =
    'the server, not the handler: the dev server persists starts one at a time (SQLite), so 10 raw ' +
    `client starts at once also take ${ratio(rawTen, rawSingle)}× one; the handler's 10 run concurrently`;
  versus('SQS batch of 10 vs batch of 1', [ten, single], ms, (r) =>
    check('batch of 10', r, ['≤', 2, '2.00×'], batchGap),
  );
  versus('  raw client: 10 starts at once vs 1', [rawTen, rawSingle], ms);
  // Against a pool of raw starts, and against raw starts in awaited groups of 10, the shape of a batch.
  const throughputGap =
    `raw starts in groups of 10, each awaited as a batch is, reach ${batch.rawGroupStartsPerSecond.toFixed(0)}/s ` +
    `(${ratio(batch.rawGroupStartsPerSecond, batch.rawStartsPerSecond)}× the pool): that is what waiting for a ` +
    "batch's slowest start costs here; the rest is the handler's CPU per start, with 10 starts in flight " +
    'on CPUs they keep busy (see warm CPU)';
  for (const [label, reference, metric] of [
    [`batch throughput, concurrency ${batch.concurrency}`, batch.rawStartsPerSecond, 'batch throughput'],
    [
      '  vs raw starts in groups of 10, each awaited',
      batch.rawGroupStartsPerSecond,
      'batch throughput, same shape',
    ],
  ] as const) {
    versus(
      label,
      [batch.handlerStartsPerSecond, reference],
      (value) => `${value.toFixed(0)}/s`,
      (r) => check(metric, r, ['≥', 0.95, '0.95×'], throughputGap),
    );
  }

  const growthOf = (samples: MemorySamples, key: 'rss' | 'liveHeap' | 'newSpace') =>
    ((samples[COUNT]?.[key] ?? 0) - (samples[10]?.[key] ?? 0)) / MB;
  const mb = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)} MB`;
  const [growth, baselineGrowth] = [growthOf(memory.project, 'rss'), growthOf(memory.baseline, 'rss')];
  const [live, baselineLive] = [growthOf(memory.project, 'liveHeap'), growthOf(memory.baseline, 'liveHeap')];
  const youngGrowth = growthOf(memory.project, 'newSpace');
  const memoryGap =
    `RSS grew ${mb(growth)}, the baseline's ${mb(baselineGrowth)}: V8 grows its young generation as it ` +
    `allocates (${mb(youngGrowth)} here) and collects old garbage late; the live heap after a full ` +
    `collection grew ${mb(live)} (baseline ${mb(baselineLive)})`;
  const memoryCheck = check('rss growth', round1(growth), ['<', 10, '10 MB'], memoryGap);
  row(`RSS growth, 10 → ${COUNT} invocations`, mb(growth), mb(baselineGrowth), '', memoryCheck);
  row('  live heap growth after full GC', mb(live), mb(baselineLive), '');

  const header = ['metric', 'project', 'reference', 'ratio', 'target', 'met'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const loadAfter = loadavg();
  const table = [
    `node ${process.version}, ${cpus().length} CPUs, load ${results.load[0]?.toFixed(2)} → ${loadAfter[0]?.toFixed(2)}; ` +
      `medians of ${ROUNDS} cold inits and ${FIRST_ROUNDS} first invocations per bundle, interleaved; ` +
      'reference: the baseline handler, or raw client calls for warm and batch rows',
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
  ];
  // One line per reason, naming every check it explains.
  const reasons = new Map<string, string[]>();
  for (const { metric, gap, met } of checks) {
    if (!met)
      reasons.set(gap ?? 'no reason known', [...(reasons.get(gap ?? 'no reason known') ?? []), metric]);
  }
  if (reasons.size > 0) table.push('', 'Targets not met:');
  for (const [gap, metrics] of reasons) table.push(`- ${metrics.join(', ')}: ${gap}.`);
  console.log(table.join('\n'));

  const out = {
    date: new Date(results.started).toISOString(),
    durationSeconds: Math.round((Date.now() - results.started) / 1000),
    machine: { node: process.version, cpus: cpus().length, loadBefore: results.load, loadAfter },
    options: { rounds: ROUNDS, firstRounds: FIRST_ROUNDS, count: COUNT, networkIsolated: isolated },
    ...summary,
    warm: {
      handlerP50Ms: round1(p50),
      handlerP99Ms: round1(p99),
      rawP50Ms: round1(rawP50),
      rawP99Ms: round1(rawP99),
      handlerCpuMs: Math.round(cpu * 100) / 100,
      rawCpuMs: Math.round(rawCpu * 100) / 100,
      handlerAllocatedKB: Math.round(allocated / 102.4) / 10,
      rawAllocatedKB: Math.round(rawAllocated / 102.4) / 10,
      connections,
    },
    metrics: {
      coldInitMs: round1(httpCold),
      coldInitWithoutMs: round1(withoutMetrics),
      warmP50Ms: round1(metricsOn),
      warmP50WithoutMs: round1(metricsOff),
      cpuMs: Math.round(metricsCpu * 1000) / 1000,
      cpuWithoutMs: Math.round(noMetricsCpu * 1000) / 1000,
    },
    batch: {
      concurrency: batch.concurrency,
      singleMs: round1(single),
      tenMs: round1(ten),
      rawSingleMs: round1(rawSingle),
      rawTenMs: round1(rawTen),
      handlerStartsPerSecond: Math.round(batch.handlerStartsPerSecond),
      rawStartsPerSecond: Math.round(batch.rawStartsPerSecond),
      rawGroupStartsPerSecond: Math.round(batch.rawGroupStartsPerSecond),
    },
    memory: {
      ...memory,
      rssGrowthMB: round1(growth),
      liveHeapGrowthMB: round1(live),
      newSpaceGrowthMB: round1(youngGrowth),
    },
    checks,
    table,
  };
  return writeFile('bench/results.json', `${JSON.stringify(out, null, 2)}\n`);
};

await main();
