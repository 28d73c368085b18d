import { Ajv2020 } from 'ajv/dist/2020.js';
import { _ } from 'ajv/dist/compile/codegen/index.js';
import formats from 'ajv-formats';
import { type CompiledInputSchemas, type InputValidators, inputSchemasOf } from './inputSchema.ts';
import type { RoutesFile } from './schema.ts';

/**
 * The Ajv that compiles input schemas: draft 2020-12 (the dialect of OpenAPI 3.1), every error rather
 * than the first, the formats of ajv-formats, and strict about the schemas themselves, so a typo in a
 * keyword or format fails the routes file instead of passing every input. `source` keeps the generated
 * code, for the build's standalone module; its formats are then imported from ajv-formats by name.
 *
 * Loaded only where a routes file's schemas are compiled: by the build, and at cold start for a
 * ROUTES_FILE. The bundled file's validators are compiled into the bundle.
 */
export const inputSchemaAjv = (source = false): Ajv2020 => {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    allowUnionTypes: true,
    ...(source && {
      code: { source: true, esm: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
    }),
  });
  formats.default(ajv);
  // OpenAPI's annotation, which schemas written for an API document often carry.
  ajv.addKeyword('example');
  return ajv;
};

/**
 * Adds every input schema of a routes file to `ajv` under its key (`workflow:<type>`, `route:<name>`),
 * compiling each: the keys that compiled, and a problem for each schema that did not.
 */
export const addInputSchemas = (
  ajv: Ajv2020,
  file: RoutesFile,
): { readonly keys: string[]; readonly problems: string[] } => {
  const problems: string[] = [];
  const keys: string[] = [];
  for (const [key, schema] of inputSchemasOf(file)) {
    try {
      ajv.addSchema(schema as object, key);
      ajv.getSchema(key);
      keys.push(key);
    } catch (error) {
      ajv.removeSchema(key);
      problems.push(`${key.replace(/^(\w+):(.*)$/, '$1 "$2"')}: inputSchema ${(error as Error).message}`);
    }
  }
  return { keys, problems };
};

/** The validators of a routes file's input schemas, compiled now, and a problem for each that did not. */
export const compileInputSchemas = (file: RoutesFile): CompiledInputSchemas => {
  const ajv = inputSchemaAjv();
  const { keys, problems } = addInputSchemas(ajv, file);
  return {
    validators: Object.fromEntries(keys.map((key) => [key, ajv.getSchema(key) as InputValidators[string]])),
    problems,
  };
};
