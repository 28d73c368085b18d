import { SearchAttributeError } from '#lib/errors.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { JsonValue, Route, SearchAttributeTypeName, StartOptionsSpec } from '#lib/routes/schema.ts';
import { render, renderString, type TemplateContext } from '#lib/routes/template.ts';
import type { StartOptions, TypedSearchAttribute } from './types.ts';

type Value = TypedSearchAttribute['value'];

const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const text = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : undefined;

const number = (value: unknown): number | undefined => {
  const parsed =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(parsed) ? parsed : undefined;
};

/**
 * A value as its declared search attribute type, or undefined when it cannot be one. Scalars are
 * converted where that loses nothing (a number as KEYWORD text, "42" as INT, "true" as BOOL, an ISO
 * time or epoch milliseconds as DATETIME); anything else is refused, never guessed at.
 */
const CONVERT: Readonly<Record<SearchAttributeTypeName, (value: unknown) => Value | undefined>> = {
  TEXT: text,
  KEYWORD: text,
  INT: (value) => {
    const parsed = number(value);
    return parsed !== undefined && Number.isSafeInteger(parsed) ? parsed : undefined;
  },
  DOUBLE: number,
  BOOL: (value) =>
    typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : undefined,
  DATETIME: (value) => {
    const date =
      typeof value === 'number' ? new Date(value) : typeof value === 'string' ? new Date(value) : undefined;
    return date !== undefined && !Number.isNaN(date.getTime()) ? date : undefined;
  },
  KEYWORD_LIST: (value) => {
    const list = Array.isArray(value) ? value.map(text) : [text(value)];
    return list.every((item) => item !== undefined) ? (list as string[]) : undefined;
  },
};

const typed = (
  routes: Routes,
  route: string,
  values: Readonly<Record<string, unknown>>,
): TypedSearchAttribute[] =>
  Object.entries(values).map(([name, raw]) => {
    // Declared by the routes file's validation; a missing declaration cannot reach here.
    const type = routes.searchAttributes.get(name) as SearchAttributeTypeName;
    const value = CONVERT[type](raw);
    if (value === undefined) {
      throw new SearchAttributeError(
        `Route "${route}": search attribute "${name}" must be ${type}, got a ${kindOf(raw)} that is not`,
      );
    }
    return { name, type, value };
  });

const renderRecord = (
  record: Readonly<Record<string, JsonValue>> | undefined,
  context: TemplateContext,
  route: string,
): Record<string, unknown> | undefined =>
  record === undefined
    ? undefined
    : Object.fromEntries(Object.entries(record).map(([key, value]) => [key, render(value, context, route)]));

const renderText = (template: string | undefined, context: TemplateContext, route: string) =>
  template === undefined ? undefined : renderString(template, context, route);

/**
 * A request's start options: its type's static ones, with the route's rendered against the event on
 * top. `memo` and `searchAttributes` merge key by key; every other option is replaced whole.
 */
export const startOptionsOf = (
  routes: Routes,
  workflow: StartOptionsSpec,
  route: Route | undefined,
  context: TemplateContext,
): StartOptions => {
  const name = route?.name ?? 'canonical';
  const own: StartOptionsSpec = route ?? {};
  const memo = { ...workflow.memo, ...renderRecord(route?.memo, context, name) };
  const attributes = {
    ...workflow.searchAttributes,
    ...renderRecord(route?.searchAttributes, context, name),
  };
  const priority = own.priority ?? workflow.priority;
  const fairnessKey = renderText(priority?.fairnessKey, context, name);
  const options: StartOptions = {
    startDelay: own.startDelay ?? workflow.startDelay,
    executionTimeout: own.executionTimeout ?? workflow.executionTimeout,
    runTimeout: own.runTimeout ?? workflow.runTimeout,
    taskTimeout: own.taskTimeout ?? workflow.taskTimeout,
    retry: own.retry ?? workflow.retry,
    priority: priority && { ...priority, ...(fairnessKey !== undefined && { fairnessKey }) },
    staticSummary: renderText(own.staticSummary, context, name) ?? workflow.staticSummary,
    staticDetails: renderText(own.staticDetails, context, name) ?? workflow.staticDetails,
    ...(Object.keys(memo).length > 0 && { memo }),
    ...(Object.keys(attributes).length > 0 && { searchAttributes: typed(routes, name, attributes) }),
  };
  // Only what is set: a request without options stays small, and its log line short.
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as StartOptions;
};
