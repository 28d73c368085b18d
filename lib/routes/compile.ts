import { RoutesFileError } from '#lib/errors.ts';
import {
  type CompiledInputSchemas,
  inputSchemasOf,
  routeSchemaKey,
  workflowSchemaKey,
} from './inputSchema.ts';
import {
  type AllowedWorkflow,
  DEFAULT_ID_CONFLICT_POLICY,
  DEFAULT_ID_REUSE_POLICY,
  type Routes,
  TEMPLATE_ROOTS,
} from './model.ts';
import type { JsonValue, Route, RoutesFile, StartOptionsSpec, WorkflowEntry } from './schema.ts';
import { START_OPTION_KEYS } from './startOptions.ts';
import { templatePaths } from './template.ts';
import { TRIGGERS, type TriggerKind } from './triggers.ts';

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A parameter of an HTTP path pattern, `{name}`: it matches one segment. */
export const PATH_PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

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

const OPTION_KEYS = ['memo', 'searchAttributes', 'staticSummary', 'staticDetails', 'priority'] as const;

/** The templates of a set of start options: memo and search attribute values, summary, details, fairness key. */
const optionTemplates = (options: StartOptionsSpec): JsonValue[] => [
  ...Object.values(options.memo ?? {}),
  ...Object.values(options.searchAttributes ?? {}),
  options.staticSummary ?? null,
  options.staticDetails ?? null,
  options.priority?.fairnessKey ?? null,
];

/** Every template of a route: its ID, input, signal and update arguments, and start options. */
const routeTemplates = (route: Route): (JsonValue | undefined)[] => [
  route.workflowId,
  route.input,
  ...(route.signal?.args ?? []),
  ...(route.update?.args ?? []),
  ...optionTemplates(route),
];

const undeclaredAttributes = (
  where: string,
  options: StartOptionsSpec,
  declared: Readonly<Record<string, unknown>>,
): string[] =>
  Object.keys(options.searchAttributes ?? {})
    .filter((name) => !Object.hasOwn(declared, name))
    .map((name) => `${where}: search attribute "${name}" is not declared in "searchAttributes"`);

const workflowProblems = (
  type: string,
  entry: WorkflowEntry,
  file: RoutesFile,
  taskQueue: string | undefined,
) => {
  const problems: string[] = [];
  if (!entry.taskQueue && !taskQueue) {
    problems.push(`workflow "${type}" has no taskQueue and TEMPORAL_TASK_QUEUE is not set`);
  }
  if ((entry.address !== undefined || entry.secretId !== undefined) && entry.namespace === undefined) {
    problems.push(`workflow "${type}": "address" and "secretId" go with "namespace"`);
  }
  problems.push(...undeclaredAttributes(`workflow "${type}"`, entry, file.searchAttributes ?? {}));
  for (const key of OPTION_KEYS) {
    if (templatePaths(optionTemplates({ [key]: entry[key] } as StartOptionsSpec)).length > 0) {
      problems.push(
        `workflow "${type}": "${key}" holds a template; templates are rendered per route, so set it on the routes`,
      );
    }
  }
  return problems;
};

const SIGNALS = new Set(['signal', 'signalWithStart']);
const UPDATES = new Set(['update', 'updateWithStart']);

const actionProblems = (route: Route): string[] => {
  const action = route.action ?? 'start';
  const problems: string[] = [];
  const where = `route "${route.name}"`;
  if (SIGNALS.has(action) !== (route.signal !== undefined)) {
    problems.push(
      SIGNALS.has(action)
        ? `${where}: action ${action} needs "signal"`
        : `${where}: "signal" needs action signal or signalWithStart`,
    );
  }
  if (UPDATES.has(action) !== (route.update !== undefined)) {
    problems.push(
      UPDATES.has(action)
        ? `${where}: action ${action} needs "update"`
        : `${where}: "update" needs action update or updateWithStart`,
    );
  }
  if (route.missingWorkflowRetrySeconds !== undefined && action !== 'signal' && action !== 'update') {
    problems.push(`${where}: "missingWorkflowRetrySeconds" applies to the signal and update actions only`);
  }
  return problems;
};

const problemsOf = (file: RoutesFile, taskQueue: string | undefined): string[] => {
  const problems: string[] = [];
  for (const [type, entry] of Object.entries(file.workflows)) {
    problems.push(...workflowProblems(type, entry, file, taskQueue));
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
    problems.push(...actionProblems(route));
    if (route.inputSchema !== undefined && route.input === undefined) {
      problems.push(`route "${route.name}": "inputSchema" checks the input, and the route has no "input"`);
    }
    // Temporal refuses a signal-with-start under FAIL (INVALID_ARGUMENT): say so before any event does.
    if (
      route.action === 'signalWithStart' &&
      file.workflows[route.workflowType]?.idConflictPolicy === 'FAIL'
    ) {
      problems.push(
        `route "${route.name}": signalWithStart cannot start "${route.workflowType}", whose idConflictPolicy FAIL Temporal does not allow for it`,
      );
    }
    problems.push(...undeclaredAttributes(`route "${route.name}"`, route, file.searchAttributes ?? {}));
    const kind = triggerOf(route);
    const roots = TEMPLATE_ROOTS[kind];
    const params = route.http ? [...route.http.path.matchAll(PATH_PARAM)].map((match) => match[1]) : [];
    for (const path of routeTemplates(route).flatMap(templatePaths)) {
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
 * listing every problem. `inputs` holds its input schemas, compiled (see inputSchema.ts).
 */
export const compile = (
  file: RoutesFile,
  origin: string,
  taskQueue: string | undefined,
  inputs: CompiledInputSchemas = { validators: {}, problems: [] },
): Routes => {
  const problems = [...problemsOf(file, taskQueue), ...inputs.problems];
  const { validators } = inputs;
  if (inputs.problems.length === 0) {
    for (const key of inputSchemasOf(file).keys()) {
      if (!Object.hasOwn(validators, key)) problems.push(`the input schema ${key} was not compiled`);
    }
  }
  if (problems.length > 0) {
    throw new RoutesFileError(`Invalid routes file ${origin}:\n${problems.map((p) => `✖ ${p}`).join('\n')}`);
  }

  const workflows = new Map<string, AllowedWorkflow>(
    Object.entries(file.workflows).map(([type, entry]) => [
      type,
      {
        taskQueue: entry.taskQueue ?? (taskQueue as string),
        ...(validators[workflowSchemaKey(type)] && { inputValidator: validators[workflowSchemaKey(type)] }),
        idReusePolicy: entry.idReusePolicy ?? DEFAULT_ID_REUSE_POLICY,
        idConflictPolicy: entry.idConflictPolicy ?? DEFAULT_ID_CONFLICT_POLICY,
        options: Object.fromEntries(
          START_OPTION_KEYS.filter((key) => entry[key] !== undefined).map((key) => [key, entry[key]]),
        ) as StartOptionsSpec,
        target: {
          ...(entry.namespace !== undefined && { namespace: entry.namespace }),
          ...(entry.address !== undefined && { address: entry.address }),
          ...(entry.secretId !== undefined && { secretId: entry.secretId }),
        },
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
        routeTemplates(route)
          .flatMap(templatePaths)
          .map((path) => path.split('.'))
          .filter(([root, name]) => root === 'headers' && name !== undefined)
          .map(([, name]) => String(name).toLowerCase()),
      ),
    })),
    sqs: byKind('sqs'),
    eventbridge: byKind('eventbridge'),
    schedule: byKind('schedule'),
    scheduler: byKind('scheduler'),
    sns: byKind('sns'),
    s3: byKind('s3'),
    kinesis: byKind('kinesis'),
    dynamodb: byKind('dynamodb'),
    searchAttributes: new Map(Object.entries(file.searchAttributes ?? {})),
    inputValidators: new Map(
      file.routes.map((route) => [
        route.name,
        validators[routeSchemaKey(route.name)] ?? validators[workflowSchemaKey(route.workflowType)],
      ]),
    ),
  };
};
