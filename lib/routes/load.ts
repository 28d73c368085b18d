import { readFileSync } from 'node:fs';
import { config } from '#lib/config.ts';
import { RoutesFileError } from '#lib/errors.ts';
import bundledRoutes from '../../routes.json' with { type: 'json' };
import type { HttpMethod, IdConflictPolicy, IdReusePolicy, Route, RoutesFile } from './schema.ts';
import { templatePaths } from './template.ts';
import { TRIGGERS, type TriggerKind } from './triggers.ts';

/** A workflow type from the allow-list, with every default filled in. */
export interface AllowedWorkflow {
  readonly taskQueue: string;
  readonly idReusePolicy: IdReusePolicy;
  readonly idConflictPolicy: IdConflictPolicy;
}

export interface HttpRoute {
  readonly route: Route;
  readonly method: HttpMethod;
  readonly pattern: RegExp;
  /** Every header its templates name (`{headers.<name>}`): credential headers it may read. */
  readonly namedHeaders: ReadonlySet<string>;
}

/** The routes file, validated and ready for matching. */
export interface Routes {
  readonly workflows: ReadonlyMap<string, AllowedWorkflow>;
  readonly http: readonly HttpRoute[];
  readonly sqs: readonly Route[];
  readonly eventbridge: readonly Route[];
  readonly schedule: readonly Route[];
  readonly scheduler: readonly Route[];
}

/**
 * The default reuse policy: a closed workflow's ID is never reused, so an event that AWS delivers
 * again after its workflow completed (or failed) does not start a second run. Workflows that should
 * re-run after a failure can opt into ALLOW_DUPLICATE_FAILED_ONLY in the routes file.
 */
export const DEFAULT_ID_REUSE_POLICY: IdReusePolicy = 'REJECT_DUPLICATE';
export const DEFAULT_ID_CONFLICT_POLICY: IdConflictPolicy = 'USE_EXISTING';

/** The roots a template path may start from, per trigger. */
export const TEMPLATE_ROOTS: Readonly<Record<TriggerKind, readonly string[]>> = {
  http: ['body', 'headers', 'query', 'cookies', 'path', 'requestId'],
  sqs: ['body', 'attributes', 'messageId', 'queue', 'groupId'],
  eventbridge: ['detail', 'source', 'detailType', 'id', 'time', 'account', 'region', 'resources'],
  schedule: ['time', 'rule', 'id'],
  scheduler: ['time', 'name', 'group', 'scheduleArn', 'detail'],
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const PATH_PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `/orders/{tenant}` → `^/orders/(?<tenant>[^/]+)/?$` */
const compilePath = (path: string): RegExp => {
  // Splitting on the capturing pattern alternates literal text (even indexes) and parameter names.
  const source = path
    .split(PATH_PARAM)
    .map((part, index) => (index % 2 === 1 ? `(?<${part}>[^/]+)` : escapeRegExp(part)))
    .join('');
  return new RegExp(`^${source.replace(/\/$/, '')}/?$`);
};

const triggerOf = (route: Route): TriggerKind => {
  const kind = TRIGGERS.find((candidate) => route[candidate] !== undefined);
  if (kind === undefined) throw new Error(`route "${route.name}" has no trigger`);
  return kind;
};

const problemsOf = (file: RoutesFile, taskQueue: string | undefined): string[] => {
  const problems: string[] = [];
  for (const [type, entry] of Object.entries(file.workflows)) {
    if (!entry.taskQueue && !taskQueue) {
      problems.push(`workflow "${type}" has no taskQueue and TEMPORAL_TASK_QUEUE is not set`);
    }
  }
  const names = new Set<string>();
  for (const route of file.routes) {
    if (names.has(route.name)) problems.push(`route name "${route.name}" is used twice`);
    names.add(route.name);
    if (!Object.hasOwn(file.workflows, route.workflowType)) {
      problems.push(`route "${route.name}": workflow type "${route.workflowType}" is not in "workflows"`);
    }
    const signature = route.http?.signature;
    if (signature?.scheme === 'hmac-sha256' && signature.header === undefined) {
      problems.push(`route "${route.name}": a hmac-sha256 signature needs "header"`);
    }
    if (signature?.prefix !== undefined && signature.scheme !== 'hmac-sha256') {
      problems.push(`route "${route.name}": "prefix" applies to the hmac-sha256 scheme only`);
    }
    if (signature?.toleranceSeconds !== undefined && signature.scheme !== 'stripe') {
      problems.push(`route "${route.name}": "toleranceSeconds" applies to the stripe scheme only`);
    }
    const kind = triggerOf(route);
    const roots = TEMPLATE_ROOTS[kind];
    const params = route.http ? [...route.http.path.matchAll(PATH_PARAM)].map((match) => match[1]) : [];
    for (const path of [...templatePaths(route.workflowId), ...templatePaths(route.input)]) {
      const [root = '', param] = path.split('.');
      if (!roots.includes(root)) {
        problems.push(
          `route "${route.name}": "{${path}}" does not start with a ${kind} root (${roots.join(', ')})`,
        );
      } else if (kind === 'http' && root === 'path' && param !== undefined && !params.includes(param)) {
        problems.push(`route "${route.name}": "{${path}}" names no parameter of "${route.http?.path}"`);
      }
    }
  }
  return problems;
};

/**
 * Prepares a routes file whose shape is already valid (see validate.ts) for matching, after the checks
 * that span routes: names, the allow-list, template roots, path parameters. Throws a RoutesFileError
 * listing every problem.
 */
export const compile = (file: RoutesFile, origin: string, taskQueue: string | undefined): Routes => {
  const problems = problemsOf(file, taskQueue);
  if (problems.length > 0) {
    throw new RoutesFileError(`Invalid routes file ${origin}:\n${problems.map((p) => `✖ ${p}`).join('\n')}`);
  }

  const workflows = new Map<string, AllowedWorkflow>(
    Object.entries(file.workflows).map(([type, entry]) => [
      type,
      {
        taskQueue: entry.taskQueue ?? (taskQueue as string),
        idReusePolicy: entry.idReusePolicy ?? DEFAULT_ID_REUSE_POLICY,
        idConflictPolicy: entry.idConflictPolicy ?? DEFAULT_ID_CONFLICT_POLICY,
      },
    ]),
  );
  const byKind = (kind: TriggerKind) => file.routes.filter((route) => route[kind] !== undefined);
  return {
    workflows,
    http: byKind('http').map((route) => ({
      route,
      method: route.http?.method ?? 'POST',
      pattern: compilePath(route.http?.path ?? '/'),
      namedHeaders: new Set(
        [...templatePaths(route.workflowId), ...templatePaths(route.input)]
          .map((path) => path.split('.'))
          .filter(([root, name]) => root === 'headers' && name !== undefined)
          .map(([, name]) => String(name).toLowerCase()),
      ),
    })),
    sqs: byKind('sqs'),
    eventbridge: byKind('eventbridge'),
    schedule: byKind('schedule'),
    scheduler: byKind('scheduler'),
  };
};

const readRoutesFile = (path: string): unknown => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RoutesFileError(`Cannot read routes file ${path} (ROUTES_FILE)`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RoutesFileError(`Routes file ${path} (ROUTES_FILE) is not valid JSON`, { cause: error });
  }
};

/** The schema's one default, for the bundled file, which reaches a cold start without the validator. */
const withDefaults = (file: unknown): RoutesFile =>
  ({ routes: [], ...(file as Partial<RoutesFile>) }) as RoutesFile;

let cached: Promise<Routes> | undefined;

/**
 * The routes in force: the file named by ROUTES_FILE, or the routes.json bundled at build time. Await
 * it at module scope, so that a bad file fails the cold start, not the first event.
 *
 * The bundled file was validated when it was built (infra/build.ts fails on a bad one), so a cold start
 * only compiles it; the validator, and zod with it, is loaded only for a file named at run time.
 */
export const routes = (): Promise<Routes> => {
  if (cached === undefined) {
    const { routesFile, taskQueue } = config();
    const loading =
      routesFile === undefined
        ? Promise.resolve().then(() =>
            compile(withDefaults(bundledRoutes), '(bundled routes.json)', taskQueue),
          )
        : import('./validate.ts').then(({ compileRoutes }) =>
            compileRoutes(readRoutesFile(routesFile), routesFile, taskQueue),
          );
    cached = loading;
    // A failure is not kept: a test, or a tool that fixes the file, can load it again.
    loading.catch(() => {
      if (cached === loading) cached = undefined;
    });
  }
  return cached;
};

/** Forgets the loaded routes, for tests that change ROUTES_FILE. */
export const resetRoutes = (): void => {
  cached = undefined;
};
