import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { bundleOptions, REQUIRE_SHIM } from '../infra/build.ts';
import { compileModulesEagerly } from '../infra/eagerModules.ts';
import { clientOnlyGrpc, lazyZlib, singleProtobufjs, trimmedTemporalProto } from '../infra/plugins.ts';
import { ALL_RPCS, descriptorModulePath, readDescriptor } from '../infra/protoDescriptor.ts';
import { median, ratio, rotate } from './stats.ts';

/**
 * `node bench/cuts.ts`: what each build step buys. Builds functions/http.ts once per step, each step
 * adding one cut to the one before, and imports each in fresh processes, interleaved, against the
 * baseline handler. Also builds two cuts the project does not make, to show what they would buy.
 */

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '11' } } });
const ROUNDS = Number(options.rounds);

/** The first cut measured: Core SDK and Cloud dropped from the descriptor, which goes in as JSON.parse. */
const withoutCoreAndCloud: Plugin = {
  name: 'without-core-and-cloud',
  setup(pass) {
    pass.onLoad({ filter: /[\\/]@temporalio[\\/]proto[\\/]protos[\\/]json-module\.js$/ }, () => {
      const { coresdk: _core, ...descriptor } = readDescriptor();
      const api = (descriptor.temporal?.nested?.api?.nested ?? {}) as Record<string, unknown>;
      delete api.cloud;
      const root =
        '($protobuf.roots["__temporal"] || ($protobuf.roots["__temporal"] = new $protobuf.Root()))';
      return {
        contents: `var $protobuf = require("protobufjs/light"); module.exports = ${root}.addJSON(JSON.parse(${JSON.stringify(JSON.stringify(descriptor))}));`,
        loader: 'js',
        resolveDir: dirname(descriptorModulePath()),
      };
    });
  },
};

/** What lib/actions.ts and the status and result features call, with the connection's check and health. */
const HANDLERS_RPCS = new Set([
  'startWorkflowExecution',
  'signalWorkflowExecution',
  'signalWithStartWorkflowExecution',
  'executeMultiOperation',
  'updateWorkflowExecution',
  'pollWorkflowExecutionUpdate',
  'describeWorkflowExecution',
  'getWorkflowExecutionHistory',
  'getSystemInfo',
  'check',
]);

interface Step {
  readonly name: string;
  readonly plugins: Plugin[];
  readonly eager: boolean;
  readonly entry?: string;
}

const STEPS: Step[] = [
  {
    name: 'baseline handler (Temporal docs, esbuild alone)',
    plugins: [],
    eager: false,
    entry: 'bench/baseline/handler.ts',
  },
  { name: 'functions/http.ts, esbuild alone', plugins: [], eager: false },
  {
    name: '+ descriptor without Core SDK and Cloud, as JSON.parse',
    plugins: [withoutCoreAndCloud],
    eager: false,
  },
  {
    name: '+ only what the services reference, annotations dropped',
    plugins: [trimmedTemporalProto({ keepRpc: ALL_RPCS, eagerFields: true })],
    eager: false,
  },
  {
    name: '+ only the RPCs named in the bundle',
    plugins: [trimmedTemporalProto({ eagerFields: true })],
    eager: false,
  },
  {
    name: '+ one protobufjs, no grpc-js server or proto-loader',
    plugins: [trimmedTemporalProto({ eagerFields: true }), singleProtobufjs(), clientOnlyGrpc()],
    eager: false,
  },
  {
    name: '+ module factories compiled once',
    plugins: [trimmedTemporalProto({ eagerFields: true }), singleProtobufjs(), clientOnlyGrpc()],
    eager: true,
  },
  {
    name: '+ message fields built on first use',
    plugins: [trimmedTemporalProto(), singleProtobufjs(), clientOnlyGrpc()],
    eager: true,
  },
  {
    name: '+ zlib loaded on first use (the build today)',
    plugins: [trimmedTemporalProto(), singleProtobufjs(), clientOnlyGrpc(), lazyZlib()],
    eager: true,
  },
  {
    name: 'not made: only the 10 RPCs the handlers call today',
    plugins: [
      trimmedTemporalProto({ keepRpc: (rpc) => HANDLERS_RPCS.has(rpc) }),
      singleProtobufjs(),
      clientOnlyGrpc(),
      lazyZlib(),
    ],
    eager: true,
  },
];

const importMs = (bundle: string) =>
  new Promise<number>((resolve, reject) => {
    const proc = spawn(process.execPath, ['bench/coldStart.mjs', bundle], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    proc.on('message', (message) => resolve((message as { importMs: number }).importMs));
    proc.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`${bundle}: exit ${code}`))));
  });

const work = await mkdtemp(join(tmpdir(), 'bench-cuts-'));
try {
  const built: { step: Step; file: string; bytes: number }[] = [];
  for (const [index, step] of STEPS.entries()) {
    const outdir = join(work, String(index));
    await build({
      ...bundleOptions(step.entry ?? 'functions/http.ts', outdir),
      banner: { js: REQUIRE_SHIM },
      plugins: step.plugins,
    });
    const file = join(outdir, 'index.mjs');
    if (step.eager) await compileModulesEagerly(file);
    built.push({ step, file, bytes: (await stat(file)).size });
    process.stderr.write(`[cuts] built ${step.name}\n`);
  }
  const samples = new Map<string, number[]>(built.map(({ file }) => [file, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const { file } of rotate(built, round)) samples.get(file)?.push(await importMs(file));
  }
  const baseline = median(samples.get(built[0]?.file ?? '') ?? []);
  const rows = built.map(({ step, file, bytes }) => {
    const value = median(samples.get(file) ?? []);
    return [
      step.name,
      `${(bytes / 1_000_000).toFixed(2)} MB`,
      `${value.toFixed(1)} ms`,
      String(ratio(value, baseline)),
    ];
  });
  const header = ['build', 'bundle', 'import (median)', 'vs baseline'];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log([line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n'));
  console.log(`\nmedians of ${ROUNDS} interleaved imports per build, each in a fresh process`);
} finally {
  await rm(work, { recursive: true, force: true });
}
