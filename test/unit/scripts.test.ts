import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { glob } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { bundlesFresh } from '../../scripts/build.ts';
import { withProgress } from '../../scripts/progress.ts';
import { testArgs } from '../../scripts/test.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('npm test -- <files or patterns>', () => {
  it('runs the files a piece of their path names, and not the whole suite', async () => {
    const args = await testArgs(['cache', 'signature']);

    assert.ok(args.includes('test/unit/cache.test.ts'));
    assert.ok(args.includes('test/unit/signature.test.ts'));
    assert.ok(!args.some((arg) => arg.includes('**')), 'no suite glob');
    assert.ok(!args.includes('test/unit/routes.test.ts'));
  });

  it('runs the suite files under a folder given, not the folder itself', async () => {
    const args = await testArgs(['--test-reporter=tap', 'test/unit']);

    assert.ok(args.includes('test/unit/cache.test.ts'));
    assert.ok(!args.includes('test/unit'));
    assert.ok(!args.some((arg) => arg.startsWith('test/integration/')));
  });

  it('passes options and their values to node --test, and runs the whole suite without a file', async () => {
    const args = await testArgs(['--test-name-pattern', 'sqs', '--test-concurrency=1']);

    assert.deepEqual(args.slice(-5, -2), ['--test-name-pattern', 'sqs', '--test-concurrency=1']);
    assert.deepEqual(args.slice(-2), ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts']);
    assert.ok(args.includes('--test-reporter'), 'the quiet report');
  });

  it('takes a file path as it is, leaves the report to a --test-reporter given, and refuses a pattern that names nothing', async () => {
    const args = await testArgs(['test/unit/zip.test.ts', '--test-reporter=tap']);

    assert.deepEqual(args, ['--test-reporter=tap', 'test/unit/zip.test.ts']);
    await assert.rejects(testArgs(['no-such-test-file']), /no test file matches "no-such-test-file"/);
  });
});

describe('withProgress', () => {
  it('says what is still running at every interval, and stops saying it when the work ends', async () => {
    const lines: string[] = [];
    const value = await withProgress(
      'building',
      new Promise((resolve) => setTimeout(() => resolve(42), 130)),
      (line) => lines.push(line),
      50,
    );
    const after = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 120));

    assert.equal(value, 42);
    assert.ok(after >= 1, `${after} progress lines`);
    assert.match(lines[0] as string, /^still building \(\d+ s so far\)$/);
    assert.equal(lines.length, after, 'no line after the work ended');
  });
});

describe('bundlesFresh (npm run invoke skips the build)', () => {
  const tree = (files: Record<string, number>) => {
    const root = mkdtempSync(join(tmpdir(), 'fresh-'));
    for (const [file, seconds] of Object.entries(files)) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), '');
      utimesSync(join(root, file), seconds, seconds);
    }
    return root;
  };
  const bundles = (seconds: number) =>
    Object.fromEntries(
      ['http', 'sqs', 'eventbridge', 'streams'].map((name) => [`dist/${name}/index.mjs`, seconds]),
    );

  it('is true when every bundle is newer than every source, and false when one source is newer', async () => {
    const fresh = tree({ 'lib/a.ts': 1_000, 'routes.json': 1_000, ...bundles(2_000) });
    const stale = tree({ 'lib/deep/b.ts': 3_000, 'routes.json': 1_000, ...bundles(2_000) });
    const routes = tree({ 'lib/a.ts': 1_000, 'routes.json': 3_000, ...bundles(2_000) });
    const missing = tree({ 'lib/a.ts': 1_000, 'dist/http/index.mjs': 2_000 });
    try {
      assert.equal(await bundlesFresh(fresh), true);
      assert.equal(await bundlesFresh(stale), false);
      assert.equal(await bundlesFresh(routes), false);
      assert.equal(await bundlesFresh(missing), false);
    } finally {
      for (const root of [fresh, stale, routes, missing]) rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('commands in the README and docs', () => {
  const texts = async () => {
    const files = ['README.md'];
    for await (const file of glob('docs/*.md', { cwd: ROOT })) files.push(file);
    return files.map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));
  };

  it('run a project script through npm or npx, never with a plain node that may be too old', async () => {
    const plain: string[] = [];
    for (const { file, text } of await texts()) {
      for (const match of text.matchAll(/(?:^|[`\s])(node (?:scripts|bench|infra|test|example)\/\S+)/gm)) {
        const before = text.slice(Math.max(0, (match.index ?? 0) - 4), (match.index ?? 0) + 1);
        if (!/npx\s?$/.test(before)) plain.push(`${file}: ${match[1]}`);
      }
    }
    assert.deepEqual(plain, []);
  });

  it('name only npm scripts that exist', async () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const unknown: string[] = [];
    for (const { file, text } of await texts()) {
      for (const match of text.matchAll(/npm run (?:-s |--silent )?([\w:-]+)/g)) {
        if (!((match[1] as string) in scripts)) unknown.push(`${file}: npm run ${match[1]}`);
      }
    }
    assert.deepEqual(unknown, []);
  });
});
