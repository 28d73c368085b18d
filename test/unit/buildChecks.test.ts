import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Metafile } from 'esbuild';
import { RoutesFileError } from '#lib/errors.ts';
import {
  BUDGET_BYTES,
  type Bundle,
  checkBundledRoutes,
  coldStartOutputs,
  coldStartProblems,
} from '../../infra/build.ts';

type Output = Metafile['outputs'][string];

const output = (bytes: number, inputs: string[], imports: Output['imports'] = []): Output => ({
  bytes,
  inputs: Object.fromEntries(inputs.map((path) => [path, { bytesInOutput: 1 }])),
  imports,
  exports: [],
});

// An esbuild metafile's shape: an entry that imports a shared chunk and loads a lazy one with import().
const metafile: Metafile = {
  inputs: {},
  outputs: {
    'dist/fn/index.mjs': output(
      600_000,
      ['lib/start.ts'],
      [
        { path: 'dist/fn/chunks/shared.mjs', kind: 'import-statement' },
        { path: 'dist/fn/chunks/secrets.mjs', kind: 'dynamic-import' },
        { path: 'node:module', kind: 'import-statement', external: true },
      ],
    ),
    'dist/fn/chunks/shared.mjs': output(300_000, ['node_modules/@temporalio/client/lib/index.js']),
    'dist/fn/chunks/secrets.mjs': output(
      500_000,
      ['node_modules/@aws-sdk/client-secrets-manager/index.js'],
      [{ path: 'dist/fn/chunks/shared.mjs', kind: 'import-statement' }],
    ),
  },
};

const bundleOf = (bytes: number, meta = metafile): Bundle => ({
  name: 'fn',
  file: 'dist/fn/index.mjs',
  bytes,
  lazyBytes: 0,
  metafile: meta,
  proto: undefined,
});

describe('build checks', () => {
  it('count what a cold start loads: the entry and its static chunks, not dynamic imports', () => {
    assert.deepEqual(coldStartOutputs(metafile, 'dist/fn/index.mjs').sort(), [
      'dist/fn/chunks/shared.mjs',
      'dist/fn/index.mjs',
    ]);
  });

  it('pass a bundle within budget whose lazy chunk holds the AWS SDK', () => {
    assert.deepEqual(coldStartProblems(bundleOf(900_000)), []);
  });

  it('fail a bundle over budget', () => {
    const [problem] = coldStartProblems(bundleOf(BUDGET_BYTES + 1));
    assert.match(problem ?? '', /over the 1000000 budget/);
  });

  it('fail a cold start that loads the AWS SDK, zod or a worker package', () => {
    const eager = structuredClone(metafile);
    const entry = eager.outputs['dist/fn/index.mjs'];
    assert.ok(entry);
    entry.inputs['node_modules/@aws-sdk/client-secrets-manager/index.js'] = { bytesInOutput: 1 };
    entry.inputs['node_modules/@temporalio/worker/lib/index.js'] = { bytesInOutput: 1 };
    entry.inputs['node_modules/zod/v4/mini/index.js'] = { bytesInOutput: 1 };
    const problems = coldStartProblems(bundleOf(900_000, eager));
    assert.equal(problems.length, 3);
    assert.match(problems.join('\n'), /@aws-sdk\/client-secrets-manager.*\n.*@temporalio\/worker/);
  });

  it('fail a cold start that loads the OpenAPI generator', () => {
    const eager = structuredClone(metafile);
    const shared = eager.outputs['dist/fn/chunks/shared.mjs'];
    assert.ok(shared);
    shared.inputs['lib/http/openapi.ts'] = { bytesInOutput: 1 };
    assert.deepEqual(coldStartProblems(bundleOf(900_000, eager)), [
      'dist/fn/index.mjs: a cold start loads lib/http/openapi.ts',
    ]);
  });
});

describe('checkBundledRoutes', () => {
  it('passes the example routes.json and fails the build on an invalid one, naming the problem', async () => {
    await checkBundledRoutes('routes.json');
    const dir = await mkdtemp(join(tmpdir(), 'bundled-routes-'));
    const bad = join(dir, 'routes.json');
    await writeFile(bad, JSON.stringify({ workflows: {}, routes: [{ name: 'x', workflowType: 'y' }] }));
    await assert.rejects(checkBundledRoutes(bad), (error: unknown) => error instanceof RoutesFileError);
  });
});
