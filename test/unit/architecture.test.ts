import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from 'esbuild';

/**
 * The import graph of the functions and lib/, as esbuild (already the build's bundler) resolves it:
 * static and dynamic imports alike, the `#lib/*` subpath imports included. A small search of our own
 * rather than another dependency: esbuild's metafile already holds the graph.
 */
const importGraph = async (): Promise<Map<string, string[]>> => {
  const { metafile } = await build({
    entryPoints: ['functions/http.ts', 'functions/sqs.ts', 'functions/eventbridge.ts'],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: 'unused',
    logLevel: 'silent',
  });
  const ours = (path: string) => path.startsWith('lib/') || path.startsWith('functions/');
  return new Map(
    Object.entries(metafile.inputs)
      .filter(([path]) => ours(path))
      .map(([path, input]) => [path, input.imports.map(({ path: to }) => to).filter(ours)]),
  );
};

/** Every cycle, each as the path that closes it, found by depth-first search. */
const cyclesOf = (graph: ReadonlyMap<string, readonly string[]>): string[][] => {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at >= 0) {
      cycles.push([...path.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return cycles;
};

describe('the shape of the code', () => {
  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    assert.deepEqual(cyclesOf(graph), [['a', 'b', 'c', 'a']]);
  });

  it('has no import cycles in lib/ and functions/', async () => {
    const graph = await importGraph();
    assert.ok(graph.size > 20, `${graph.size} modules read`);
    assert.deepEqual(
      cyclesOf(graph).map((cycle) => cycle.join(' → ')),
      [],
    );
  });
});
