import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { type Node, parse } from 'acorn';

/**
 * Has V8 compile a bundle's module factories once instead of twice.
 *
 * esbuild wraps each CommonJS module in a function that its `__commonJS` helper calls on the first
 * `require`. V8 compiles functions lazily: it pre-parses each one with the whole file, then parses it
 * again in full when it first runs. Every factory of these bundles runs during init, so the first
 * pass is wasted. V8 compiles a function wrapped in parentheses eagerly instead (its PIFE heuristic,
 * https://v8.dev/blog/preparser#pife), so this wraps every factory in parentheses, and shifts the
 * source map to match. Functions inside the factories stay lazy.
 */

type AnyNode = Node & Record<string, unknown>;

const isNode = (value: unknown): value is AnyNode =>
  typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

const children = (node: AnyNode): AnyNode[] =>
  Object.values(node).flatMap((value) =>
    Array.isArray(value) ? value.filter(isNode) : isNode(value) ? [value] : [],
  );

/**
 * The names esbuild's `__commonJS` helper goes by in `program`: a top-level
 * `var y = (cb, mod) => () => ... (mod = { exports: {} }).exports ...`, whatever minification named it.
 */
const commonJsHelpers = (program: AnyNode, code: string): Set<string> => {
  const names = new Set<string>();
  for (const statement of children(program)) {
    if (statement.type !== 'VariableDeclaration') continue;
    for (const declarator of children(statement)) {
      const { id, init } = declarator as { id?: AnyNode; init?: AnyNode };
      if (id?.type !== 'Identifier' || init?.type !== 'ArrowFunctionExpression') continue;
      const inner = init.body as AnyNode;
      const text = code.slice(init.start, init.end);
      if (inner.type === 'ArrowFunctionExpression' && /\{exports:\{\}\}\)\.exports/.test(text)) {
        names.add(id.name as string);
      }
    }
  }
  return names;
};

const parseModule = (code: string): AnyNode =>
  parse(code, { ecmaVersion: 'latest', sourceType: 'module' }) as unknown as AnyNode;

const nameOf = (node: unknown): string | undefined => {
  const value = node as { type?: string; name?: unknown; value?: unknown } | undefined;
  if (value?.type === 'Identifier') return String(value.name);
  if (value?.type === 'Literal') return String(value.value);
  return undefined;
};

/**
 * The names the `__commonJS` helper goes by in a file that imports it. With code splitting, esbuild
 * defines its helpers once, in a shared chunk, and each output imports them from there
 * (`import{c as o}from"./chunks/chunk-X.mjs"`): the helper is found in that chunk, through its exports.
 */
const importedCommonJsHelpers = (program: AnyNode, file: string): Set<string> => {
  const names = new Set<string>();
  for (const statement of children(program)) {
    const source = (statement as { source?: { value?: unknown } }).source?.value;
    if (statement.type !== 'ImportDeclaration' || typeof source !== 'string' || !source.startsWith('.')) {
      continue;
    }
    const chunkCode = readFileSync(join(dirname(file), source), 'utf8');
    const chunk = parseModule(chunkCode);
    const locals = commonJsHelpers(chunk, chunkCode);
    const exported = new Set<string>();
    for (const declaration of children(chunk)) {
      if (declaration.type !== 'ExportNamedDeclaration') continue;
      for (const specifier of (declaration.specifiers as AnyNode[] | undefined) ?? []) {
        const local = nameOf(specifier.local);
        const name = nameOf(specifier.exported);
        if (local !== undefined && name !== undefined && locals.has(local)) exported.add(name);
      }
    }
    for (const specifier of (statement.specifiers as AnyNode[] | undefined) ?? []) {
      const imported = nameOf(specifier.imported);
      const local = nameOf(specifier.local);
      if (imported !== undefined && local !== undefined && exported.has(imported)) names.add(local);
    }
  }
  return names;
};

/** Where each factory passed to a `__commonJS` helper starts and ends. */
const factories = (code: string, file: string): [number, number][] => {
  const program = parseModule(code);
  const helpers = new Set([...commonJsHelpers(program, code), ...importedCommonJsHelpers(program, file)]);
  const found: [number, number][] = [];
  const stack = [program];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const { callee, arguments: args } = node as { callee?: AnyNode; arguments?: AnyNode[] };
    const factory = args?.[0];
    if (
      node.type === 'CallExpression' &&
      callee?.type === 'Identifier' &&
      helpers.has(callee.name as string)
    ) {
      if (factory?.type === 'ArrowFunctionExpression' || factory?.type === 'FunctionExpression') {
        found.push([factory.start, factory.end]);
      }
    }
    stack.push(...children(node));
  }
  return found;
};

/** Shifts a source map's generated columns for characters inserted at `offsets` of `code`. */
const shiftMappings = (mappings: string, code: string, offsets: number[]): string => {
  const lineStarts = [0];
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const byLine = new Map<number, number[]>();
  for (const offset of offsets) {
    const line = Math.max(
      0,
      lineStarts.findLastIndex((start) => start <= offset),
    );
    byLine.set(line, [...(byLine.get(line) ?? []), offset - (lineStarts[line] ?? 0)]);
  }
  const decoded = decode(mappings);
  for (const [line, columns] of byLine) {
    const inserted = columns.sort((a, b) => a - b);
    // Segments are in column order: count the insertions at or before each as it comes.
    let before = 0;
    for (const segment of decoded[line] ?? []) {
      while (before < inserted.length && (inserted[before] as number) <= segment[0]) before += 1;
      segment[0] += before;
    }
  }
  return encode(decoded);
};

/** Wraps the module factories of `file` (and its source map, `file.map`, when there is one). Returns how many. */
export const compileModulesEagerly = async (file: string): Promise<number> => {
  const code = await readFile(file, 'utf8');
  const found = factories(code, file).sort((a, b) => a[0] - b[0]);
  if (found.length === 0) return 0;
  let out = '';
  let at = 0;
  for (const [start, end] of found) {
    out += `${code.slice(at, start)}(${code.slice(start, end)})`;
    at = end;
  }
  await writeFile(file, out + code.slice(at));
  const map = await readFile(`${file}.map`, 'utf8').catch(() => undefined);
  if (map !== undefined) {
    const parsed = JSON.parse(map) as { mappings: string };
    parsed.mappings = shiftMappings(parsed.mappings, code, found.flat());
    await writeFile(`${file}.map`, JSON.stringify(parsed));
  }
  return found.length;
};
