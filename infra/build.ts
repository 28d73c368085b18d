import { mkdir, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { zipFunctions } from './zip.ts';

/**
 * Bundles each function into dist/<name>/index.mjs: ESM, minified, self-contained, with a source map
 * and an esbuild metafile (dist/<name>/meta.json, for https://esbuild.github.io/analyze/).
 */
export const FUNCTIONS = ['http', 'sqs', 'eventbridge'] as const;

// grpc-js and protobufjs are CommonJS and call require() for Node built-ins; ESM output needs one.
const requireShim =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);";

await rm('dist', { recursive: true, force: true });
for (const name of FUNCTIONS) {
  const outdir = `dist/${name}`;
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [`functions/${name}.ts`],
    outfile: `${outdir}/index.mjs`,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    sourcemap: true,
    metafile: true,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    banner: { js: requireShim },
    logLevel: 'warning',
  });
  await writeFile(`${outdir}/meta.json`, JSON.stringify(result.metafile));
  const output = result.metafile.outputs[`${outdir}/index.mjs`];
  console.log(`${outdir}/index.mjs  ${((output?.bytes ?? 0) / 1024).toFixed(0)} KiB`);
}

// The deployment packages serverless.yml deploys (infra/zip.ts).
await zipFunctions(FUNCTIONS);
