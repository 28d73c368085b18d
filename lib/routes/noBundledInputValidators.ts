import type { InputValidators } from './inputSchema.ts';

/**
 * The bundled routes file's input schemas, compiled: the build replaces this module with their
 * validators, generated as plain code (infra/inputValidators.ts), so a cold start compiles nothing.
 * Run from source, there are none, and load.ts compiles the schemas itself.
 */
export const validators: InputValidators | undefined = undefined;
