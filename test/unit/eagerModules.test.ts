import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { compileModulesEagerly } from '../../infra/eagerModules.ts';

const sources: Record<string, string> = {
  'a.cjs': "exports.greet = (name) => 'hello ' + name;\n",
  'b.cjs':
    "const { greet } = require('./a.cjs');\nexports.shout = (name) => greet(name).toUpperCase() + ' MARKER_B';\n",
  'entry.mjs': "import { shout } from './b.cjs';\nexport const handler = () => shout('lambda');\n",
};

/** Where `text` is in `code`, as a zero-based line and column. */
const positionOf = (code: string, text: string) => {
  const offset = code.indexOf(text);
  const line = code.slice(0, offset).split('\n').length - 1;
  return { line, column: offset - (code.lastIndexOf('\n', offset - 1) + 1) };
};

describe('eager module compilation', () => {
  let dir: string;
  let out: string;
  let original: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eager-'));
    for (const [name, text] of Object.entries(sources)) await writeFile(join(dir, name), text);
    out = join(dir, 'out.mjs');
    await build({
      entryPoints: [join(dir, 'entry.mjs')],
      outfile: out,
      bundle: true,
      format: 'esm',
      platform: 'node',
      minify: true,
      sourcemap: true,
      logLevel: 'silent',
    });
    original = await readFile(out, 'utf8');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('wraps each CommonJS module factory in parentheses, and the bundle still runs', async () => {
    const wrapped = await compileModulesEagerly(out);
    const code = await readFile(out, 'utf8');
    assert.equal(wrapped, 2);
    assert.equal(code.length, original.length + 4);
    const { handler } = (await import(pathToFileURL(out).href)) as { handler: () => string };
    assert.equal(handler(), 'HELLO LAMBDA MARKER_B');
  });

  it('keeps the source map pointing at the original lines', async () => {
    const code = await readFile(out, 'utf8');
    const map = new SourceMap(JSON.parse(await readFile(`${out}.map`, 'utf8')));
    // The string literal, from its opening quote, whichever quotes minification chose.
    const { line, column } = positionOf(code, ' MARKER_B');
    const entry = map.findEntry(line, column - 1);
    assert.ok('originalSource' in entry, 'no mapping');
    // A mapping that starts exactly at the quote: the shifted one, not one left where it was.
    assert.equal(entry.generatedColumn, column - 1);
    assert.match(entry.originalSource, /b\.cjs$/);
    assert.equal(entry.originalLine, 1);
    assert.equal(entry.originalColumn, sources['b.cjs']?.split('\n')[1]?.indexOf("' MARKER_B'"));
  });

  it('finds the factories of a split build, whose helper lives in a shared chunk', async () => {
    const splitDir = join(dir, 'split');
    await writeFile(join(dir, 'lazy.mjs'), "export const late = () => 'late';\n");
    await writeFile(
      join(dir, 'split-entry.mjs'),
      "import { shout } from './b.cjs';\nexport const handler = async () => shout((await import('./lazy.mjs')).late());\n",
    );
    const { metafile } = await build({
      entryPoints: [join(dir, 'split-entry.mjs')],
      outdir: splitDir,
      entryNames: 'index',
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
      splitting: true,
      bundle: true,
      format: 'esm',
      platform: 'node',
      minify: true,
      metafile: true,
      logLevel: 'silent',
    });
    const entry = join(splitDir, 'index.mjs');
    const before = await readFile(entry, 'utf8');
    assert.ok(
      Object.keys(metafile.outputs).some((file) => file.includes('/chunks/')),
      'a chunk was split off',
    );

    assert.equal(await compileModulesEagerly(entry), 2);
    assert.equal((await readFile(entry, 'utf8')).length, before.length + 4);
    const { handler } = (await import(pathToFileURL(entry).href)) as { handler: () => Promise<string> };
    assert.equal(await handler(), 'HELLO LATE MARKER_B');
  });
});
