import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildOptions } from 'esbuild';
import { buildAll, bundle } from '../../infra/build.ts';

/** The options without the plugin `name`: the step it carries out silently does nothing. */
const without =
  (name: string) =>
  (options: BuildOptions): BuildOptions => ({
    ...options,
    plugins: (options.plugins ?? []).filter((plugin) => plugin.name !== name),
  });

describe('a build step that does not take effect fails the build', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'build-steps-'));
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const build = (name: string, adjust: (options: BuildOptions) => BuildOptions) =>
    bundle('http', 'functions/http.ts', join(dir, name), undefined, adjust);

  it('builds with every step in place', async () => {
    const built = await build('intact', (options) => options);
    assert.ok(built.bytes > 0);
  });

  it('fails when grpc-js keeps its server modules', async () => {
    await assert.rejects(build('grpc', without('client-only-grpc')), /client-only-grpc replaced nothing/);
  });

  it('fails when a second protobufjs is bundled', async () => {
    await assert.rejects(
      build('protobufjs', without('single-protobufjs')),
      /single-protobufjs left 2 copies/,
    );
  });

  it("fails when eager compilation does not recognise esbuild's CommonJS helper", async () => {
    // Unminified, the helper's text no longer has the shape eagerModules.ts looks for.
    await assert.rejects(
      build('eager', (options) => ({
        ...options,
        minify: false,
        minifySyntax: false,
        minifyWhitespace: false,
      })),
      /eager compilation wrapped no module factories/,
    );
  });

  it('refuses a client module that does not exist, or exports nothing the client takes, before building', async () => {
    const empty = join(dir, 'empty.ts');
    await writeFile(empty, 'export const unrelated = 1;\n');
    await assert.rejects(
      buildAll({ client: join(dir, 'missing.ts'), outdir: join(dir, 'missing') }),
      /Cannot load the client module/,
    );
    await assert.rejects(
      buildAll({ client: empty, outdir: join(dir, 'empty') }),
      /exports none of payloadConverter, failureConverter, payloadCodecs, interceptors/,
    );
  });
});
