import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { config } from '#lib/config.ts';
import { RoutesFileError } from '#lib/errors.ts';
import type { Routes } from '#lib/routes/model.ts';

/**
 * `npm run routes`: the routes file, checked and explained with the functions' own code, offline: no
 * call to Temporal, no secret read, no network at all.
 *
 * Exit codes: 0 when the file is valid, or every event (every record) matches and normalizes; 1 when
 * the file is invalid, or an event does not; 2 on a usage error (bad arguments, a file that cannot be
 * read or is not JSON, an event of no shape the functions take, a routes file explain cannot use).
 *
 * The commands load the functions' code, and Temporal's client with it, which takes a second: only once
 * the command line is known to be good.
 */

export const USAGE = [
  'usage: npm run routes -- check [routes file] [--json]',
  '       npm run routes -- explain <event.json> [--routes <routes file>] [--json]',
  'The routes file is routes.json by default; TEMPORAL_TASK_QUEUE is read as the functions read it.',
].join('\n');

/** A usage error: exit code 2. `arguments`: the command line is wrong, so the usage is shown. */
class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly arguments: boolean;
  constructor(message: string, { arguments: args = false } = {}) {
    super(message);
    this.arguments = args;
  }
}

const argumentError = (message: string) => new UsageError(message, { arguments: true });

/** A file as the command line names it, and where it is. */
interface FileArgument {
  readonly name: string;
  readonly path: string;
}

/** npm runs scripts in the package root; a relative path means the directory npm was called from. */
const fileArgument = (name: string): FileArgument => ({
  name,
  path: resolve(process.env.INIT_CWD ?? process.cwd(), name),
});

/** The project's routes.json, wherever npm was called from. */
const DEFAULT_ROUTES: FileArgument = {
  name: 'routes.json',
  path: resolve(import.meta.dirname, '..', 'routes.json'),
};

const readJson = async ({ name: file, path }: FileArgument, what: string): Promise<unknown> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${file}: ${error instanceof Error ? error.message : error}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON.parse's message, which quotes the text.
    throw new UsageError(`${what} ${file} is not valid JSON`);
  }
};

/** The functions' configuration: a bad variable is a usage error too. */
const settings = (): ReturnType<typeof config> => {
  try {
    return config();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
};

const print = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};

const check = async (routesFile: FileArgument, json: boolean): Promise<number> => {
  const raw = await readJson(routesFile, 'the routes file');
  const { checkRoutes } = await import('./routesCheck.ts');
  const { formatCheck } = await import('./routesOutput.ts');
  const file = routesFile.name;
  const result = checkRoutes(raw, file, settings().taskQueue);
  const { problems, warnings } = result;
  print(
    json
      ? JSON.stringify({ file, valid: problems.length === 0, problems, warnings }, null, 2)
      : formatCheck(file, result),
  );
  return problems.length === 0 ? 0 : 1;
};

const explain = async (eventFile: FileArgument, routesFile: FileArgument, json: boolean): Promise<number> => {
  const event = await readJson(eventFile, 'the event file');
  const { explainEvent, sourceOf, succeeded } = await import('./routesExplain.ts');
  const { formatExplanations } = await import('./routesOutput.ts');
  const { compileRoutes } = await import('#lib/routes/validate.ts');
  const source = sourceOf(event);
  if (source === undefined) {
    throw new UsageError(
      `${eventFile.name} is not an event the functions take: not an API Gateway or ALB request, an SQS, Kinesis or DynamoDB Streams batch, an SNS message, an S3 event notification, an EventBridge event or a Scheduler input`,
    );
  }
  const { taskQueue, maxBodyBytes, openapi } = settings();
  let routes: Routes;
  try {
    routes = compileRoutes(await readJson(routesFile, 'the routes file'), routesFile.name, taskQueue);
  } catch (error) {
    if (!(error instanceof RoutesFileError)) throw error;
    throw new UsageError(`${error.message}\n(npm run routes -- check ${routesFile.name} lists the problems)`);
  }
  const explanations = explainEvent(routes, source, event, { maxBodyBytes, openapi });
  const ok = explanations.every(succeeded);
  print(
    json
      ? JSON.stringify({ routes: routesFile.name, source, ok, events: explanations }, null, 2)
      : formatExplanations(source, explanations),
  );
  return ok ? 0 : 1;
};

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      routes: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });

const run = async (argv: readonly string[]): Promise<number> => {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw argumentError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [command, file, ...extra] = positionals;
  if (values.help) {
    print(USAGE);
    return 0;
  }
  if (extra.length > 0) throw argumentError(`unexpected arguments: ${extra.join(' ')}`);
  if (command === 'check') {
    if (values.routes !== undefined) throw argumentError('check takes the routes file as its argument');
    return check(file === undefined ? DEFAULT_ROUTES : fileArgument(file), values.json ?? false);
  }
  if (command === 'explain') {
    if (file === undefined) throw argumentError('explain needs an event file');
    const routesFile = values.routes === undefined ? DEFAULT_ROUTES : fileArgument(values.routes);
    return explain(fileArgument(file), routesFile, values.json ?? false);
  }
  throw argumentError(command === undefined ? 'a command is missing' : `unknown command "${command}"`);
};

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2)).catch((error: unknown) => {
    if (!(error instanceof UsageError)) {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    } else {
      process.stderr.write(`${error.message}\n${error.arguments ? `\n${USAGE}\n` : ''}`);
    }
    return 2;
  });
}
