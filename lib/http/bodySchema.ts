import type { JsonValue, Route } from '#lib/routes/schema.ts';
import { exactPath, templatePaths } from '#lib/routes/template.ts';

/*
 * What an HTTP route asks of a request, read backwards from its templates: the body's JSON Schema, and
 * the query parameters, headers and cookies it names. The route's input schema describes the rendered
 * input; where the input template copies the body (or a part of it) whole, the part of the schema at
 * that place describes the body there.
 */

/** A JSON Schema (2020-12): an object, or true / false. */
export type JsonSchema = boolean | { readonly [keyword: string]: JsonValue };

export interface RequestShape {
  /** The body's schema; `{}` (any JSON) where no template reads it. */
  readonly body: JsonSchema;
  /** Whether a template reads the body: a request without one then answers 422 (a missing path). */
  readonly bodyRead: boolean;
  /** What the templates name under `query`, `headers` and `cookies`: a request without one answers 422. */
  readonly query: readonly string[];
  readonly headers: readonly string[];
  readonly cookies: readonly string[];
}

/** One placeholder of a template: its path, where the input template puts it, and whether it becomes text. */
interface Read {
  readonly path: string;
  /** The input pointer of a placeholder that is the whole of an input template's string. */
  readonly at?: readonly string[];
  /** Rendered as text (interpolated, or a workflow ID): `null` there answers 422. */
  readonly text: boolean;
}

const readsOf = (
  template: JsonValue | undefined,
  text: boolean,
  at: readonly string[] | undefined,
): Read[] => {
  if (typeof template === 'string') {
    const exact = exactPath(template);
    if (exact !== undefined) return [{ path: exact, text, ...(at && { at }) }];
    return templatePaths(template).map((path) => ({ path, text: true }));
  }
  if (template === null || typeof template !== 'object') return [];
  return Object.entries(template).flatMap(([key, item]) => readsOf(item, text, at && [...at, key]));
};

/** Every placeholder of a route: its input (with pointers), its workflow ID and texts, its values. */
const routeReads = (route: Route): Read[] => {
  const texts = [route.workflowId, route.staticSummary, route.staticDetails, route.priority?.fairnessKey];
  const values = [
    ...(route.signal?.args ?? []),
    ...(route.update?.args ?? []),
    ...Object.values(route.memo ?? {}),
    ...Object.values(route.searchAttributes ?? {}),
  ];
  return [
    ...readsOf(route.input, false, []),
    ...texts.flatMap((template) => readsOf(template, true, undefined)),
    ...values.flatMap((template) => readsOf(template, false, undefined)),
  ];
};

const isSchemaObject = (value: JsonValue | undefined): value is { [keyword: string]: JsonValue } =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const asSchema = (value: JsonValue | undefined): JsonSchema | undefined =>
  typeof value === 'boolean' || isSchemaObject(value) ? value : undefined;

/** The subschema for one step of the input: a property, or an array item. */
const childSchema = (schema: { [keyword: string]: JsonValue }, key: string): JsonSchema | undefined => {
  const { properties, prefixItems, items } = schema;
  if (isSchemaObject(properties) && Object.hasOwn(properties, key)) return asSchema(properties[key]);
  if (!/^\d+$/.test(key)) return undefined;
  if (Array.isArray(prefixItems) && Number(key) < prefixItems.length)
    return asSchema(prefixItems[Number(key)]);
  return asSchema(items);
};

/**
 * The part of a schema that applies at an input pointer, found through `properties`, `prefixItems` and
 * `items` only; `{}` where those do not say (a `$ref`, `allOf`, `additionalProperties`).
 */
export const subschemaAt = (schema: JsonSchema, pointer: readonly string[]): JsonSchema => {
  let node = schema;
  for (const key of pointer) {
    if (typeof node === 'boolean') return node;
    const child = childSchema(node, key);
    if (child === undefined) return {};
    node = child;
  }
  return node;
};

/** Keywords whose values are data, not schemas: a `$ref` inside them is not a reference. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example']);

/**
 * A copy of a part of a schema, moved out of it: its references into its own document (`#`, `#/...`)
 * now start at `base`, where the whole schema is (`#/components/schemas/<name>` in an OpenAPI document).
 */
export const rebased = (schema: JsonValue, base: string): JsonValue => {
  if (Array.isArray(schema)) return schema.map((item) => rebased(item, base));
  if (!isSchemaObject(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([keyword, value]) => {
      if (DATA_KEYWORDS.has(keyword)) return [keyword, value];
      const local = (keyword === '$ref' || keyword === '$dynamicRef') && typeof value === 'string';
      if (local && (value === '#' || value.startsWith('#/'))) return [keyword, `${base}${value.slice(1)}`];
      return [keyword, rebased(value, base)];
    }),
  );
};

/** What the body must hold at one place: schemas that all apply, and the properties templates name. */
interface Place {
  readonly schemas: JsonSchema[];
  readonly properties: Map<string, Place>;
  nonNull: boolean;
}

const place = (): Place => ({ schemas: [], properties: new Map(), nonNull: false });

const allowsNull = (type: JsonValue): boolean =>
  type === 'null' || (Array.isArray(type) && type.includes('null'));

const schemaOf = ({ schemas, properties, nonNull }: Place): JsonSchema => {
  const parts: JsonSchema[] = [];
  const add = (part: JsonSchema) => {
    const seen = parts.some((other) => JSON.stringify(other) === JSON.stringify(part));
    if (part !== true && !(isSchemaObject(part) && Object.keys(part).length === 0) && !seen) parts.push(part);
  };
  schemas.forEach(add);
  if (properties.size > 0) {
    // A key of digits may be an array's index, which a template reads too: then no `type` is said.
    const indexed = [...properties.keys()].some((key) => /^\d+$/.test(key));
    add({
      ...(!indexed && { type: 'object' }),
      required: [...properties.keys()],
      properties: Object.fromEntries(
        [...properties].map(([key, child]) => [key, schemaOf(child) as JsonValue]),
      ),
    });
  }
  // Text needs a value that is not null, which a `type` that leaves out null already says.
  const typed = parts.some(
    (part) => isSchemaObject(part) && part.type !== undefined && !allowsNull(part.type),
  );
  if (nonNull && properties.size === 0 && !typed) add({ not: { type: 'null' } });
  if (parts.length === 0) return {};
  return parts.length === 1 ? (parts[0] as JsonSchema) : { allOf: parts as JsonValue[] };
};

/**
 * What a route asks of a request. `inputSchema` is the schema of its rendered input (the route's own,
 * else its workflow type's); `base`, where the document the body schema goes into keeps that schema
 * whole: the body is then `{"$ref": base}` where the input is exactly `{body}`, and parts of it taken
 * from deeper have their references rebased onto it.
 *
 * `"{body}"` at input pointer P: the body is the input schema's subschema at P. `"{body.a.b}"` at P:
 * the body has the required property a.b (nested objects), with that subschema. Any other placeholder
 * under `body` (in a workflow ID, inside a longer text, in a signal's arguments) makes its path required,
 * and not null where it becomes text.
 */
export const requestShapeOf = (route: Route, inputSchema?: JsonSchema, base?: string): RequestShape => {
  const body = place();
  const named = { query: new Set<string>(), headers: new Set<string>(), cookies: new Set<string>() };
  let bodyRead = false;
  for (const { path, at, text } of routeReads(route)) {
    const [root = '', ...keys] = path.split('.');
    if (root !== 'body') {
      if (Object.hasOwn(named, root) && keys[0] !== undefined) named[root as keyof typeof named].add(keys[0]);
      continue;
    }
    bodyRead = true;
    let node = body;
    for (const key of keys) {
      const next = node.properties.get(key) ?? place();
      node.properties.set(key, next);
      node = next;
    }
    if (text) node.nonNull = true;
    if (at === undefined || inputSchema === undefined) continue;
    const schema = subschemaAt(inputSchema, at);
    if (base === undefined) node.schemas.push(schema);
    else node.schemas.push(at.length === 0 ? { $ref: base } : (rebased(schema, base) as JsonSchema));
  }
  return {
    body: schemaOf(body),
    bodyRead,
    query: [...named.query],
    headers: [...named.headers],
    cookies: [...named.cookies],
  };
};
