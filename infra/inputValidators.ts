import standaloneCode from 'ajv/dist/standalone/index.js';
import type { Plugin } from 'esbuild';
import { addInputSchemas, inputSchemaAjv } from '../lib/routes/compileInputSchemas.ts';
import type { RoutesFile } from '../lib/routes/schema.ts';

/** The specifier lib/routes/load.ts imports the bundled file's validators by (package.json "imports"). */
export const INPUT_VALIDATORS_SPECIFIER = '#bundled-input-validators';

/**
 * The validators of a routes file's input schemas as one ES module of plain code (Ajv's standalone
 * mode), whose `validators` export maps each schema's key to its validate function. It imports only Ajv's
 * small runtime helpers and, where a schema names a format, ajv-formats' format table: no compiler
 * and no schema compilation at cold start. The file's schemas compiled before (validate.ts).
 */
export const inputValidatorsModule = (file: RoutesFile): string => {
  const ajv = inputSchemaAjv(true);
  const { keys, problems } = addInputSchemas(ajv, file);
  if (problems.length > 0) throw new Error(`Input schemas that do not compile:\n${problems.join('\n')}`);
  if (keys.length === 0) return 'export const validators = {};\n';
  // Export names must be identifiers; the keys (`route:<name>`) are not.
  const code = standaloneCode.default(ajv, Object.fromEntries(keys.map((key, index) => [`v${index}`, key])));
  const table = keys.map((key, index) => `${JSON.stringify(key)}: v${index}`).join(', ');
  return `${code}\nexport const validators = { ${table} };\n`;
};

/** Bundles `code`, from inputValidatorsModule, where load.ts imports `#bundled-input-validators`. */
export const bundledInputValidators = (code: string): Plugin => ({
  name: 'bundled-input-validators',
  setup(pass) {
    pass.onResolve({ filter: /^#bundled-input-validators$/ }, () => ({
      path: 'input-validators',
      namespace: 'bundled-input-validators',
    }));
    pass.onLoad({ filter: /.*/, namespace: 'bundled-input-validators' }, () => ({
      contents: code,
      loader: 'js',
      // Where its require("ajv/dist/runtime/...") calls resolve from.
      resolveDir: import.meta.dirname,
    }));
  },
});
