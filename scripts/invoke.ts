import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { build, bundlesFresh } from './build.ts';
import { lambdaContext } from './lambdaContext.ts';
import { readStack, STACK_FILE } from './stackFile.ts';

/**
 * `npm run invoke -- <http|sqs|eventbridge|sns|s3|streams> <event.json>`: runs a built handler once on
 * an event file, against the stack `npm start` runs (or the server at TEMPORAL_ADDRESS), and prints its
 * result. Exits non-zero when the invocation failed: it threw, reported batch item failures (SQS,
 * Kinesis, DynamoDB Streams), or answered HTTP 4xx/5xx.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** The function that takes each source's events: SNS and S3 notifications go to the eventbridge one. */
const FUNCTION_OF: Readonly<Record<string, string>> = {
  http: 'http',
  sqs: 'sqs',
  eventbridge: 'eventbridge',
  sns: 'eventbridge',
  s3: 'eventbridge',
  streams: 'streams',
};

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(1);
};

const [source = '', file] = process.argv.slice(2);
const name = FUNCTION_OF[source] ?? '';
if (name === '' || file === undefined) {
  fail(`usage: npm run invoke -- <${Object.keys(FUNCTION_OF).join('|')}> <event.json>`);
}
const bundle = new URL(`../dist/${name}/index.mjs`, import.meta.url);
// Built when a source is newer than the bundles, with the build's output on stderr: stdout is the result's.
if (await bundlesFresh()) {
  process.stderr.write('[invoke] the bundles in dist/ are up to date\n');
} else {
  await build().catch((error: unknown) =>
    fail(`the build failed: ${error instanceof Error ? error.message : String(error)}`),
  );
}
if (!existsSync(bundle)) fail(`${fileURLToPath(bundle)} is missing: run npm run build first`);

// npm runs scripts in the package root; a relative path means the directory npm was called from.
const eventFile = resolve(process.env.INIT_CWD ?? process.cwd(), file as string);
let event: unknown;
try {
  event = JSON.parse(await readFile(eventFile, 'utf8'));
} catch (error) {
  fail(`cannot read the event from ${eventFile}: ${error instanceof Error ? error.message : String(error)}`);
}

const stack = await readStack();
if (stack !== undefined) {
  process.env.TEMPORAL_ADDRESS = stack.address;
  process.env.TEMPORAL_NAMESPACE = stack.namespace;
} else if (!process.env.TEMPORAL_ADDRESS) {
  fail(
    `No local stack is running (no live ${STACK_FILE}) and TEMPORAL_ADDRESS is not set.\n` +
      'Run `npm start` in another terminal first, or set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE).',
  );
}
process.stderr.write(`[invoke] dist/${name}/index.mjs against ${process.env.TEMPORAL_ADDRESS}\n`);

// The handler reads its configuration at first use, so it is imported only once the variables are set.
// The handler logs JSON lines to stdout, as in Lambda; send them to stderr so stdout is the result alone.
const stdoutWrite = process.stdout.write;
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
const { handler } = (await import(bundle.href)) as { handler: Handler };
let result: unknown;
try {
  result = await handler(event, lambdaContext({ functionName: `local-${name}` }));
} catch (error) {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  fail(`${name} handler failed: ${message}`);
} finally {
  process.stdout.write = stdoutWrite;
}
console.log(JSON.stringify(result, null, 2));

const { batchItemFailures, statusCode } = (result ?? {}) as {
  batchItemFailures?: unknown[];
  statusCode?: number;
};
if (batchItemFailures?.length) fail(`${batchItemFailures.length} record(s) failed`);
if (name === 'http' && (statusCode ?? 200) >= 400) fail(`the handler answered ${statusCode}`);
// The handler keeps its Temporal connection open, as it would between Lambda invocations; don't wait on it.
process.exit(0);
