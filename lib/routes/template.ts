import { TemplateError } from '#lib/errors.ts';
import type { JsonValue } from './schema.ts';

/** What a template can read from: one object per root (`body`, `path`, `detail`, ...). */
export type TemplateContext = Readonly<Record<string, unknown>>;

const EXACT = /^\{([^{}]+)\}$/;
const PLACEHOLDER = /\{([^{}]+)\}/g;

const MISSING = Symbol('missing');

/** The path of a template that is exactly `{path}`, which renders as that value, whatever its JSON type. */
export const exactPath = (template: string): string | undefined => EXACT.exec(template)?.[1]?.trim();

const lookup = (context: TemplateContext, path: string): unknown => {
  let value: unknown = context;
  for (const segment of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return MISSING;
    value = (value as Record<string, unknown>)[segment];
  }
  return value === undefined ? MISSING : value;
};

const resolve = (context: TemplateContext, path: string, route: string): unknown => {
  const value = lookup(context, path.trim());
  if (value === MISSING) throw new TemplateError(route, path.trim());
  return value;
};

/** A value as text: strings as they are, anything else as JSON; null never becomes the text "null". */
const interpolate = (value: unknown, route: string, path: string): string => {
  if (value === null)
    throw new TemplateError(route, path, 'is null in the event, and cannot be part of a text');
  return typeof value === 'string' ? value : JSON.stringify(value);
};

/**
 * Renders a template against an event's context. A string that is exactly `{path}` takes the
 * value's own JSON type; placeholders inside longer strings are interpolated; objects and arrays
 * are rendered recursively. A missing path throws a TemplateError naming the route and the path.
 */
export const render = (template: JsonValue, context: TemplateContext, route: string): unknown => {
  if (typeof template === 'string') {
    const exact = exactPath(template);
    if (exact !== undefined) return resolve(context, exact, route);
    return template.replace(PLACEHOLDER, (_, path: string) =>
      interpolate(resolve(context, path, route), route, path.trim()),
    );
  }
  if (Array.isArray(template)) return template.map((item) => render(item, context, route));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(
      Object.entries(template).map(([key, item]) => [key, render(item, context, route)]),
    );
  }
  return template;
};

/** Renders a template that must produce a string, such as a workflow ID. */
export const renderString = (template: string, context: TemplateContext, route: string): string => {
  const exact = exactPath(template);
  return interpolate(render(template, context, route), route, exact ?? template);
};

/** Every placeholder path in a template, so routes can be checked at load time. */
export const templatePaths = (template: JsonValue | undefined): string[] => {
  if (typeof template === 'string')
    return [...template.matchAll(PLACEHOLDER)].map((match) => String(match[1]).trim());
  if (Array.isArray(template)) return template.flatMap(templatePaths);
  if (template !== null && typeof template === 'object')
    return Object.values(template).flatMap(templatePaths);
  return [];
};
