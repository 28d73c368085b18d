import { InputSchemaError, type InputViolation } from '#lib/errors.ts';
import type { JsonValue, RoutesFile } from './schema.ts';

/*
 * Input schemas on the invocation path: which schema applies where, and what a failed validation says.
 * No validator library loads here. The validators are plain functions: compiled into the bundle by the
 * build for the bundled routes file (infra/inputValidators.ts), compiled when the file loads for a
 * ROUTES_FILE (compileInputSchemas.ts).
 */

/** The fields of an Ajv error this reads (ajv's ErrorObject), typed here so that ajv is never imported. */
interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

/** A compiled input schema: an Ajv validate function, which leaves its errors on itself. */
export interface InputValidator {
  (input: unknown): boolean;
  errors?: readonly SchemaError[] | null;
}

export type InputValidators = Readonly<Record<string, InputValidator>>;

/** A routes file's input schemas, compiled by key, with a problem for each that did not compile. */
export interface CompiledInputSchemas {
  readonly validators: InputValidators;
  readonly problems: readonly string[];
}

export type InputSchema = boolean | Readonly<Record<string, JsonValue>>;

export const workflowSchemaKey = (workflowType: string): string => `workflow:${workflowType}`;
export const routeSchemaKey = (route: string): string => `route:${route}`;

/** Every input schema of a routes file, by key: `workflow:<type>` and `route:<name>`. */
export const inputSchemasOf = (file: RoutesFile): Map<string, InputSchema> => {
  const schemas = new Map<string, InputSchema>();
  for (const [type, entry] of Object.entries(file.workflows)) {
    if (entry.inputSchema !== undefined) schemas.set(workflowSchemaKey(type), entry.inputSchema);
  }
  for (const route of file.routes) {
    if (route.inputSchema !== undefined) schemas.set(routeSchemaKey(route.name), route.inputSchema);
  }
  return schemas;
};

const EXACT = /^\{([^{}]+)\}$/;

const escapeSegment = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1');
const unescapeSegment = (segment: string): string => segment.replaceAll('~1', '/').replaceAll('~0', '~');

/**
 * Where a pointer into the input came from in the event: following it through the input template to a
 * string that is exactly `{root.a.b}` gives `root` and the pointer `/a/b` with the rest appended. A
 * violation then points into what the caller sent (the request body, the event's detail), not into an
 * input it never saw. Elsewhere (a literal, an interpolated text) it stays a pointer into the input.
 */
const sourceOf = (
  template: JsonValue | undefined,
  pointer: string,
): Pick<InputViolation, 'in' | 'pointer'> => {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/');
  let node = template;
  for (let index = 0; index <= segments.length; index += 1) {
    const path = typeof node === 'string' ? EXACT.exec(node)?.[1]?.trim() : undefined;
    if (path !== undefined) {
      const [root = '', ...keys] = path.split('.');
      const rest = [...keys.map(escapeSegment), ...segments.slice(index)];
      return { in: root, pointer: rest.map((segment) => `/${segment}`).join('') };
    }
    const segment = segments[index];
    if (segment === undefined || node === null || typeof node !== 'object') break;
    const key = unescapeSegment(segment);
    if (!Object.hasOwn(node, key)) break;
    node = (node as Readonly<Record<string, JsonValue>>)[key];
  }
  return { in: 'input', pointer };
};

/** A violation: the property a `required` or `additionalProperties` names is where it is. */
const violationOf = (error: SchemaError, template: JsonValue | undefined): InputViolation => {
  const { missingProperty, additionalProperty } = error.params;
  const property = typeof missingProperty === 'string' ? missingProperty : additionalProperty;
  const pointer =
    typeof property === 'string' ? `${error.instancePath}/${escapeSegment(property)}` : error.instancePath;
  const detail =
    typeof missingProperty === 'string'
      ? 'is required'
      : typeof additionalProperty === 'string'
        ? 'is not allowed'
        : (error.message ?? `fails "${error.keyword}"`);
  return { ...sourceOf(template, pointer), detail };
};

/**
 * Checks a rendered input against its schema; throws an InputSchemaError listing every violation
 * (validators are compiled with allErrors). `template` is the route's input template, which maps
 * violations back into the event. `undefined` input is a route that passes none: nothing to check.
 */
export const checkInput = (
  validator: InputValidator | undefined,
  input: unknown,
  route: string,
  template: JsonValue | undefined,
): void => {
  if (validator === undefined || input === undefined || validator(input)) return;
  throw new InputSchemaError(
    route,
    (validator.errors ?? []).map((error) => violationOf(error, template)),
  );
};
