import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { compileRoutes } from '../lib/routes/validate.ts';
import { buildStepProblems } from './buildChecks.ts';
import { compileModulesEagerly } from './eagerModules.ts';
import { bundledInputValidators, inputValidatorsModule } from './inputValidators.ts';
import {
  BUNDLED_ROUTES_INPUT,
  bundledRoutes,
  clientModule,
  clientOnlyGrpc,
  lazyZlib,
  type ProtoSummary,
  singleProtobufjs,
  trimmedTemporalProto,
} from './plugins.ts';
import { zipFunctions } from './zip.ts';

/**
 * Bundles each function into dist/<name>/index.mjs: ESM, minified, self-contained, with a source map
 * and an esbuild metafile (dist/<name>/meta.json, for https://esbuild.github.io/analyze/). Modules
 * imported with `await import()` go to dist/<name>/chunks/ and load only when that code runs. The
 * build fails when what a cold start loads is over its size budget or includes a package or module it
 * must never load.
 *
 * `npm run build [-- --routes <file>]` bundles that routes file (routes.json by default) into every
 * function and writes the same text to dist/routes.json, from which the deployment is derived
 * (infra/derive.ts). `--client-module <file>` bundles the project's data converter and interceptors
 * (see ClientModule in lib/temporal/client.ts); `--outdir <dir>` builds elsewhere than dist/, without
 * the zips.
 */
export const FUNCTIONS = ['http', 'sqs', 'eventbridge', 'streams'] as const;

/** Bytes a function's cold start may load: index.mjs and the chunks it imports statically (1.0 MB). */
export const BUDGET_BYTES = 1_000_000;

/**
 * Packages a cold start must never load: worker-side Temporal packages, and the AWS SDK and zod, which
 * only an execution environment with a secret or a ROUTES_FILE to read needs (imported lazily, into
 * chunks of their own).
 */
export const NEVER_AT_COLD_START = [
  '@temporalio/worker',
  '@temporalio/core-bridge',
  '@temporalio/workflow',
  '@swc/core',
  '@aws-sdk/',
  // The validators: the bundled routes file is validated by the build, its input schemas compiled into
  // plain code (only ajv's runtime helpers load), and the credentials secret's format loads with the
  // first secret read.
  'zod/',
  'ajv/dist/core',
  'ajv/dist/compile/',
  'ajv/dist/vocabularies/',
] as const;

/** Modules of ours a cold start must never load: the OpenAPI generator loads with the first GET /openapi.json. */
export const LAZY_MODULES = ['lib/http/openapi.ts', 'lib/http/bodySchema.ts'] as const;

/** grpc-js and protobufjs are CommonJS and call require() for Node built-ins; ESM output needs one. */
export const REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);";

/** The esbuild options every function is built with; tests bundle their own entry points with them. */
export const bundleOptions = (
  entryPoint: string,
  outdir: string,
  onTrim?: (summary: ProtoSummary) => void,
): BuildOptions => ({
  entryPoints: [entryPoint],
  outdir,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  sourcemap: true,
  metafile: true,
  legalComments: 'none',
  mainFields: ['module', 'main'],
  banner: { js: REQUIRE_SHIM },
  logLevel: 'warning',
  plugins: [trimmedTemporalProto({ onTrim }), singleProtobufjs(), clientOnlyGrpc(), lazyZlib()],
});

export interface Bundle {
  readonly name: string;
  /** The entry file, `<outdir>/index.mjs`. */
  readonly file: string;
  /** Bytes a cold start loads: the entry file and the chunks it imports statically. */
  readonly bytes: number;
  /** Bytes of the chunks loaded only by `await import()`. */
  readonly lazyBytes: number;
  readonly metafile: Metafile;
  readonly proto: ProtoSummary | undefined;
}

/** The output files a cold start loads: `entry` and every chunk it imports statically. */
export const coldStartOutputs = (metafile: Metafile, entry: string): string[] => {
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const { path, kind } of metafile.outputs[file]?.imports ?? []) {
      if (kind === 'import-statement' && metafile.outputs[path]) visit(path);
    }
  };
  visit(entry);
  return [...loaded];
};

/** Why a bundle fails the build: over budget, or a package a cold start must never load. */
export const coldStartProblems = (bundle: Bundle): string[] => {
  const problems: string[] = [];
  if (bundle.bytes > BUDGET_BYTES) {
    problems.push(
      `${bundle.file}: a cold start loads ${bundle.bytes} bytes, over the ${BUDGET_BYTES} budget`,
    );
  }
  for (const output of coldStartOutputs(bundle.metafile, bundle.file)) {
    for (const input of Object.keys(bundle.metafile.outputs[output]?.inputs ?? {})) {
      const banned = NEVER_AT_COLD_START.find((name) => input.includes(`node_modules/${name}`));
      if (banned || (LAZY_MODULES as readonly string[]).includes(input)) {
        problems.push(`${bundle.file}: a cold start loads ${input}`);
      }
    }
  }
  return problems;
};

/**
 * Builds one entry point into `outdir`/index.mjs, with its meta.json beside it and proto.json, what it
 * kept of Temporal's protobuf descriptor; then marks its module factories for eager compilation. With
 * `routes`, the text of a routes file, that file is bundled where the code imports routes.json.
 */
export const bundle = async (
  name: string,
  entryPoint: string,
  outdir: string,
  routes?: string,
  /** Changes the esbuild options: for the tests that break a step on purpose and expect the build to fail. */
  adjust: (options: BuildOptions) => BuildOptions = (options) => options,
): Promise<Bundle> => {
  await mkdir(outdir, { recursive: true });
  let proto: ProtoSummary | undefined;
  const options = adjust(
    bundleOptions(entryPoint, outdir, (summary) => {
      proto = summary;
    }),
  );
  const plugins = [
    ...(options.plugins ?? []),
    ...(routes === undefined
      ? []
      : [
          bundledRoutes(routes),
          bundledInputValidators(inputValidatorsModule({ routes: [], ...JSON.parse(routes) })),
        ]),
  ];
  const { metafile } = await build({ ...options, plugins, metafile: true });
  // The plugin relies on how load.ts names the file: a bundle that imported routes.json some other way
  // would carry the project's routes.json instead, so the build proves the replacement took effect.
  if (routes !== undefined && metafile.inputs[BUNDLED_ROUTES_INPUT] === undefined) {
    throw new Error(
      `${entryPoint}: the routes file given to the build was not bundled (no routes.json import)`,
    );
  }
  await writeFile(`${outdir}/meta.json`, JSON.stringify(metafile));
  await writeFile(`${outdir}/proto.json`, `${JSON.stringify(proto, null, 2)}\n`);
  const outputs = Object.keys(metafile.outputs).filter((out) => out.endsWith('.mjs'));
  let wrapped = 0;
  for (const out of outputs) wrapped += await compileModulesEagerly(out);
  const problems = buildStepProblems(name, metafile, wrapped);
  if (problems.length > 0) {
    throw new Error(`A build step did not take effect:\n${problems.map((p) => `✖ ${p}`).join('\n')}`);
  }
  const file = `${outdir}/index.mjs`;
  const size = async (files: string[]) => {
    const sizes = await Promise.all(files.map(async (out) => (await stat(out)).size));
    return sizes.reduce((sum, bytes) => sum + bytes, 0);
  };
  const loaded = coldStartOutputs(metafile, file);
  const lazy = outputs.filter((out) => !loaded.includes(out));
  return { name, file, bytes: await size(loaded), lazyBytes: await size(lazy), metafile, proto };
};

const formatBytes = (bytes: number): string => `${(bytes / 1_000_000).toFixed(2)} MB`;

/**
 * Validates the routes file the functions bundle, so that a bad one fails the build; a cold start then
 * only compiles it, without loading the validator. Its task queue fallback (TEMPORAL_TASK_QUEUE) is a
 * deployment setting, checked again at cold start, so it is taken as given here. Returns the file's
 * text, which is what gets bundled.
 */
export const checkBundledRoutes = async (path = 'routes.json'): Promise<string> => {
  const text = await readFile(path, 'utf8');
  compileRoutes(JSON.parse(text), path, '(TEMPORAL_TASK_QUEUE, checked at cold start)');
  return text;
};

/**
 * Builds every function into dist/ with the routes file `routes`, writes dist/routes.json, prints the
 * sizes, and throws when one fails its checks.
 */
export const buildAll = async ({
  routes = 'routes.json',
  client,
  outdir = 'dist',
}: {
  routes?: string;
  client?: string;
  outdir?: string;
} = {}): Promise<Bundle[]> => {
  const text = await checkBundledRoutes(routes);
  const withClient = client === undefined ? undefined : await checkClientModule(client);
  await rm(outdir, { recursive: true, force: true });
  const bundles: Bundle[] = [];
  for (const name of FUNCTIONS) {
    const built = await bundle(name, `functions/${name}.ts`, `${outdir}/${name}`, text, withClient);
    // Proof that the module given took the place of lib/temporal/noClientModule.ts.
    if (
      client !== undefined &&
      !Object.keys(built.metafile.inputs).includes(relative('.', resolve(client)))
    ) {
      throw new Error(`${name}: the client module ${client} was not bundled`);
    }
    bundles.push(built);
  }
  // Exactly what every function bundled: the deployment's source of truth (serverless.yml, infra/derive.ts).
  await writeFile(`${outdir}/routes.json`, text);
  console.log(`${outdir}/routes.json  from ${routes}, bundled into ${FUNCTIONS.join(', ')}`);
  for (const { file, bytes, lazyBytes } of bundles) {
    const lazy = lazyBytes > 0 ? `, ${formatBytes(lazyBytes)} loaded lazily` : '';
    console.log(`${file}  ${formatBytes(bytes)} at cold start (budget ${formatBytes(BUDGET_BYTES)})${lazy}`);
  }
  const problems = bundles.flatMap(coldStartProblems);
  if (problems.length > 0) {
    throw new Error(`${problems.join('\n')}\n(see meta.json in https://esbuild.github.io/analyze/)`);
  }
  // The deployment packages serverless.yml deploys (infra/zip.ts), from dist/ only.
  if (outdir === 'dist') await zipFunctions(FUNCTIONS);
  return bundles;
};

/** What a client module must export: at least one of these, each as lib/temporal/client.ts takes it. */
const CLIENT_MODULE_EXPORTS = [
  'payloadConverter',
  'failureConverter',
  'payloadCodecs',
  'interceptors',
] as const;

/**
 * Checks the client module `--client-module` names before anything is built: it exists, and exports at
 * least one of the four names (a module exporting none of them would change nothing, silently). Returns
 * the esbuild options change that bundles it.
 */
const checkClientModule = async (file: string): Promise<(options: BuildOptions) => BuildOptions> => {
  const path = resolve(file);
  let exported: Record<string, unknown>;
  try {
    exported = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`Cannot load the client module ${file} (--client-module)`, { cause: error });
  }
  const found = CLIENT_MODULE_EXPORTS.filter((name) => exported[name] !== undefined);
  if (found.length === 0) {
    throw new Error(
      `The client module ${file} exports none of ${CLIENT_MODULE_EXPORTS.join(', ')}: it would change nothing`,
    );
  }
  if (exported.payloadCodecs !== undefined && !Array.isArray(exported.payloadCodecs)) {
    throw new Error(`The client module ${file}: payloadCodecs must be an array`);
  }
  if (exported.interceptors !== undefined && !Array.isArray(exported.interceptors)) {
    throw new Error(
      `The client module ${file}: interceptors must be an array of WorkflowClient interceptors`,
    );
  }
  console.log(`client module  ${file}: ${found.join(', ')}`);
  return (options) => ({ ...options, plugins: [...(options.plugins ?? []), clientModule(path)] });
};

if (import.meta.main) {
  const { values } = parseArgs({
    options: { routes: { type: 'string' }, 'client-module': { type: 'string' }, outdir: { type: 'string' } },
  });
  await buildAll({ routes: values.routes, client: values['client-module'], outdir: values.outdir });
}
