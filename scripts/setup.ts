import { installPythonEnv, VENV_DIR } from './pythonEnv.ts';
import { temporalBinary } from './temporalServer.ts';

/**
 * `npm run setup`: what the tests need besides npm packages, installed ahead of the first run (the
 * first run would install it too): the Temporal CLI, built once with `go install` into a cache outside
 * the clone, and the Python tools (moto, cfn-lint, checkov) in the project-local .venv. Both say what they are
 * doing every minute while they work.
 */
const binary = await temporalBinary();
process.stderr.write(
  binary === undefined
    ? "[setup] no temporal CLI could be built (no Go toolchain?); the tests will try @temporalio/testing's download\n"
    : `[setup] temporal CLI: ${binary}\n`,
);
await installPythonEnv();
process.stderr.write(`[setup] Python tools: ${VENV_DIR}\n`);
