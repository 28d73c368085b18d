import { elasticMqMissing, installElasticMq } from './elasticMq.ts';
import { installPythonEnv, VENV_DIR } from './pythonEnv.ts';
import { temporalBinary } from './temporalServer.ts';

/**
 * `npm run setup`: what the tests need besides npm packages, installed ahead of the first run (the
 * first run would install it too): the Temporal CLI, built once with `go install` into a cache outside
 * the clone, the Python tools (moto, cfn-lint, checkov) in the project-local .venv, and ElasticMQ (the
 * local stack's SQS, from Maven Central, also cached outside the clone). Each says what it is doing
 * every minute while it works.
 */
const binary = await temporalBinary();
process.stderr.write(
  binary === undefined
    ? "[setup] no temporal CLI could be built (no Go toolchain?); the tests will try @temporalio/testing's download\n"
    : `[setup] temporal CLI: ${binary}\n`,
);
await installPythonEnv();
process.stderr.write(`[setup] Python tools: ${VENV_DIR}\n`);
const missing = elasticMqMissing();
if (missing === undefined) {
  process.stderr.write(`[setup] ElasticMQ: ${await installElasticMq()}\n`);
} else {
  process.stderr.write(`[setup] no ElasticMQ (${missing}): npm start runs without local SQS queues\n`);
}
