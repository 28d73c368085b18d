import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import * as errors from '#lib/errors.ts';
import type { Action, JsonValue, Route, RoutesFile, Signature } from '#lib/routes/schema.ts';
import { type JsonSchema, rebased, requestShapeOf } from './bodySchema.ts';
import { OPENAPI_PATH } from './openapiPath.ts';
import { problemType } from './response.ts';
import { signatureHeaderOf } from './signatureHeader.ts';

/*
 * The HTTP API's OpenAPI 3.1 document, made from a routes file: its `http` routes, then the canonical
 * endpoints, in the order the function matches them (lib/http/request.ts), with what each answers
 * (lib/http/response.ts, lib/status.ts) and every problem type of lib/errors.ts. `npm run openapi` writes
 * it; the http function serves it at GET /openapi.json when HTTP_OPENAPI is on. docs/openapi.md.
 */

type Json = { [key: string]: unknown };

export interface OpenApiOptions {
  /** Describe GET /openapi.json too, as the http function serves the document. */
  readonly served?: boolean;
}

const ref = (kind: 'schemas' | 'responses' | 'parameters', name: string) => ({
  $ref: `#/components/${kind}/${name}`,
});

/** JSON with its keys sorted, so that a digest does not depend on how a file orders them. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );

/** Names unique within one namespace (component names, operation IDs), made from any text. */
const uniqueNames = (clean: (name: string) => string = (name) => name) => {
  const taken = new Set<string>();
  return (wanted: string): string => {
    const base = clean(wanted);
    let name = base;
    for (let n = 2; taken.has(name); n += 1) name = `${base}_${n}`;
    taken.add(name);
    return name;
  };
};

// --- Problems -------------------------------------------------------------------------------------

/**
 * Errors no HTTP request is answered with: a bad routes file fails the cold start, and a workflow not
 * started yet is SQS's and EventBridge's to retry, and a blocked shard is a stream's.
 */
const NOT_HTTP = new Set(['RoutesFileError', 'WorkflowNotStartedError', 'ShardBlockedError']);

interface ProblemType {
  readonly type: string;
  readonly title: string;
  readonly error: string;
}

const isErrorClass = (value: unknown): value is new (...args: unknown[]) => errors.TriggerError =>
  typeof value === 'function' && value.prototype instanceof errors.TriggerError;

/**
 * Every problem type an HTTP request may be answered with, by status: one per TriggerError of
 * lib/errors.ts, whose status and title are instance fields (made with placeholder arguments, which every
 * constructor takes), and `about:blank` for an unexpected error.
 */
export const problemTypes = (): Map<number, ProblemType[]> => {
  const byStatus = new Map<number, ProblemType[]>();
  const add = (status: number, problem: ProblemType) =>
    byStatus.set(status, [...(byStatus.get(status) ?? []), problem]);
  for (const value of Object.values(errors) as unknown[]) {
    if (!isErrorClass(value)) continue;
    const error = new value('', []);
    if (NOT_HTTP.has(error.name)) continue;
    add(error.statusCode, { type: problemType(error.name), title: error.title, error: error.name });
  }
  add(500, { type: 'about:blank', title: 'Internal Server Error', error: 'any other error' });
  return new Map([...byStatus].sort(([a], [b]) => a - b));
};

const HEADER_SCHEMAS: Readonly<Record<number, Json>> = {
  405: { Allow: { description: 'The methods the path takes.', schema: { type: 'string' } } },
  503: {
    'Retry-After': {
      description: 'Seconds to wait before a retry (Temporal unavailable).',
      schema: { type: 'integer' },
    },
  },
};

const problemResponse = (status: number, problems: readonly ProblemType[]): Json => ({
  description: `${STATUS_CODES[status]}. Problem types: ${problems
    .map(({ type, title, error }) => `\`${type}\` (${title}: ${error})`)
    .join('; ')}.`,
  ...(HEADER_SCHEMAS[status] && { headers: HEADER_SCHEMAS[status] }),
  content: {
    'application/problem+json': {
      schema: {
        allOf: [ref('schemas', 'Problem')],
        properties: { type: { enum: problems.map(({ type }) => type) }, status: { const: status } },
      },
    },
  },
});

/** API Gateway's own answers, before the function runs: `{"message": ...}`. */
const GATEWAY: Readonly<Record<number, string>> = {
  401: 'Unauthorized: no valid JWT (httpAuth=jwt), from API Gateway before the function runs.',
  403: 'Forbidden: no valid SigV4 signature of a principal allowed execute-api:Invoke (httpAuth=iam), from API Gateway before the function runs.',
  429: 'Too Many Requests: over the HTTP API throttling (httpThrottlingBurstLimit, httpThrottlingRateLimit), from API Gateway before the function runs.',
};

const gatewayResponse = (status: number): Json => ({
  description: GATEWAY[status],
  content: { 'application/json': { schema: ref('schemas', 'GatewayMessage') } },
});

/**
 * An operation's error answers: its problem statuses, and, behind the authorizer, API Gateway's 401 or
 * 403 (whichever httpAuth chose) and throttling. A status with both is described inline with both bodies.
 */
const errorResponses = (
  problems: Map<number, ProblemType[]>,
  statuses: readonly number[],
  authorized: boolean,
): Json => {
  const gateway = authorized ? [401, 403, 429] : [429];
  const all = [...new Set([...statuses.filter((status) => problems.has(status)), ...gateway])].sort(
    (a, b) => a - b,
  );
  return Object.fromEntries(
    all.map((status) => {
      const problem = statuses.includes(status) && problems.has(status);
      if (!gateway.includes(status)) return [status, ref('responses', `Problem${status}`)];
      if (!problem) return [status, ref('responses', `Gateway${status}`)];
      const own = problemResponse(status, problems.get(status) ?? []);
      const theirs = gatewayResponse(status);
      return [
        status,
        {
          description: `${own.description} Or ${theirs.description}`,
          content: { ...(own.content as Json), ...(theirs.content as Json) },
        },
      ];
    }),
  );
};

// --- Fixed schemas and parameters -----------------------------------------------------------------

/**
 * 202 and 200, as lib/http/response.ts's actionResponse chooses them for each action (its keys are every
 * action: schema.ts's list would load zod with this module).
 */
const ACTION_ANSWERS: Readonly<Record<Action, { 202: string; 200: string }>> = {
  start: {
    202: 'A new run started.',
    200: 'The workflow already existed (started: false, with its run), or, after Prefer: wait, it closed in time.',
  },
  signalWithStart: {
    202: 'The signal was delivered; started says whether it started the run.',
    200: 'After Prefer: wait, the workflow closed in time.',
  },
  signal: { 202: 'The signal was delivered.', 200: 'After Prefer: wait, the workflow closed in time.' },
  updateWithStart: {
    202: 'The update was accepted, and still running when the wait ended (update.status ACCEPTED).',
    200: 'The update completed (update.status COMPLETED, with its result) or failed in its handler (FAILED, with its failure).',
  },
  update: {
    202: 'The update was accepted, and still running when the wait ended (update.status ACCEPTED).',
    200: 'The update completed (update.status COMPLETED, with its result) or failed in its handler (FAILED, with its failure).',
  },
};

const failure = { type: 'object', required: ['message'], properties: { message: { type: 'string' } } };

const SCHEMAS: Json = {
  ActionResult: {
    type: 'object',
    description:
      'What the request did to its workflow. After Prefer: wait, when the workflow closed in time, also how it ended: status and result or failure.',
    required: ['action', 'workflowId', 'workflowType', 'namespace', 'started'],
    properties: {
      action: { enum: Object.keys(ACTION_ANSWERS) },
      workflowId: { type: 'string' },
      runId: { type: 'string', description: 'The run acted on; absent after a plain signal.' },
      workflowType: { type: 'string' },
      taskQueue: { type: 'string' },
      namespace: { type: 'string' },
      started: { type: 'boolean', description: 'Whether this request started a run.' },
      signal: { type: 'string', description: 'The signal delivered (signal, signalWithStart).' },
      update: ref('schemas', 'UpdateOutcome'),
      status: {
        enum: ['COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT'],
        description: 'Prefer: wait, when the workflow closed in time: how it ended.',
      },
      result: { description: "The workflow's result, when it completed within Prefer: wait." },
      failure: {
        ...failure,
        description: 'Why it did not complete, when it closed otherwise within Prefer: wait.',
      },
    },
  },
  UpdateOutcome: {
    type: 'object',
    required: ['id', 'name', 'status'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      status: {
        enum: ['ACCEPTED', 'COMPLETED', 'FAILED'],
        description: 'ACCEPTED: still running in the workflow; COMPLETED or FAILED: done.',
      },
      result: { description: "The update's result, when it completed." },
      failure: { ...failure, description: 'Why its handler failed.' },
    },
  },
  WorkflowStatus: {
    type: 'object',
    required: ['workflowId', 'runId', 'workflowType', 'status', 'startTime', 'closeTime'],
    properties: {
      workflowId: { type: 'string' },
      runId: { type: 'string', description: 'The latest run.' },
      workflowType: { type: 'string' },
      status: {
        type: 'string',
        description: "Temporal's execution status, as its SDK names it: RUNNING, COMPLETED, FAILED, ...",
      },
      startTime: { type: 'string', format: 'date-time' },
      closeTime: { type: ['string', 'null'], format: 'date-time' },
      result: { description: 'The result of a completed run.' },
      failure: { ...failure, description: 'Why a closed run did not complete.' },
      startedBy: {
        type: 'object',
        description: 'The route and action whose request or event started the run, when this API started it.',
        required: ['route', 'action'],
        properties: { route: { type: 'string' }, action: { type: 'string' } },
      },
    },
  },
  Problem: {
    type: 'object',
    description:
      'An RFC 9457 problem. detail is given for 4xx answers only: 5xx answers never carry internal messages.',
    required: ['type', 'title', 'status'],
    properties: {
      type: { type: 'string', format: 'uri-reference', description: 'urn:temporal-triggers:problem:<name>' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string', description: 'The API Gateway request ID.' },
      errors: {
        type: 'array',
        description:
          'An input that fails its input schema (422, Invalid input): every violation, each where it is (in the body, where the input template copies it, else in the rendered input) and what the schema requires there, never the value.',
        items: {
          type: 'object',
          required: ['in', 'pointer', 'detail'],
          properties: {
            in: {
              type: 'string',
              description:
                'input, or the part of the request a template copies the value from: body, path, query, headers',
            },
            pointer: { type: 'string', description: 'A JSON Pointer (RFC 6901) into it.' },
            detail: { type: 'string' },
          },
        },
      },
      idempotencyKey: {
        type: 'string',
        description:
          'An Idempotency-Key sent again with a different request (422, Idempotency-Key reused): the key.',
      },
    },
  },
  GatewayMessage: {
    type: 'object',
    description: "API Gateway's own answer.",
    required: ['message'],
    properties: { message: { type: 'string' } },
  },
};

const PARAMETERS: Json = {
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    schema: { type: 'string', minLength: 1 },
    description:
      "Names the workflow where the route has no workflowId template, and on the canonical POST: `<workflowType>-<key>` (behind an authorizer, the key is scoped to the caller), so a retried request answers 200 with started: false and the same workflowId and runId. Under the default reuse policy this holds after the workflow closed too. On a signal or update route it also keys the signal and the update: a retried request delivers its signal once, and reattaches to its update. Without it, such a workflow is named after the API Gateway request ID, so every request is a new one. A start keeps a fingerprint of the request (method, path, body bytes): the key sent again with a different request answers 422 (Idempotency-Key reused), not the first request's workflow.",
  },
  Prefer: {
    name: 'Prefer',
    in: 'header',
    required: false,
    schema: { type: 'string', examples: ['wait=10'] },
    description:
      "RFC 7240 `wait=N`: waits up to N seconds for the workflow to close (on an update route: for the update to complete, which is waited for up to API Gateway's 29 s without it), never past API Gateway's 29 s nor the invocation's deadline. The answer then carries Preference-Applied, and, when the workflow closed in time, its status and result or failure.",
  },
};

const LOCATION = {
  Location: { description: 'The workflow: /workflows/{workflowId}.', schema: { type: 'string' } },
};
const PREFERENCE_APPLIED = {
  'Preference-Applied': { description: 'wait=N, when Prefer: wait was sent.', schema: { type: 'string' } },
};

const actionResult = (description: string): Json => ({
  description,
  headers: { ...LOCATION, ...PREFERENCE_APPLIED },
  content: { 'application/json': { schema: ref('schemas', 'ActionResult') } },
});

/** The problems every request that acts on a workflow may get; 500, 503 and 504 are everyone's. */
const ACTION_PROBLEMS = [400, 409, 413, 415, 422, 500, 503, 504];

// --- Operations -----------------------------------------------------------------------------------

interface Planned {
  readonly method: string;
  readonly path: string;
  /** A description of each path parameter, by name. */
  readonly pathParameters: Readonly<Record<string, Json>>;
  readonly operation: Json;
}

const PATH_PARAMETER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

const pathNames = (path: string): string[] =>
  [...path.matchAll(PATH_PARAMETER)].map((match) => String(match[1]));

const SIGNATURE_FORMATS: Readonly<Record<Signature['scheme'], string>> = {
  github: "`sha256=<hex>`, the HMAC-SHA256 of the raw body (GitHub's X-Hub-Signature-256)",
  stripe: '`t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of `<t>.` and the raw body (Stripe-Signature)',
  'hmac-sha256': 'the HMAC-SHA256 of the raw body, in hex',
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const signatureParameter = (signature: Signature): Json => {
  const prefix = signature.scheme === 'github' ? 'sha256=' : (signature.prefix ?? '');
  const hex = signature.scheme === 'stripe' ? {} : { pattern: `^${escapeRegExp(prefix)}[0-9A-Fa-f]{64}$` };
  return {
    name: signatureHeaderOf(signature),
    in: 'header',
    required: true,
    schema: { type: 'string', ...hex },
    description: `The webhook signature: ${SIGNATURE_FORMATS[signature.scheme]}${prefix && signature.scheme === 'hmac-sha256' ? ` after \`${prefix}\`` : ''}. Without a valid one the request answers 401 and starts nothing.`,
  };
};

/** Headers a template may name that are described otherwise, or that OpenAPI leaves out of parameters. */
const DESCRIBED_HEADERS = new Set(['accept', 'content-type', 'authorization', 'idempotency-key', 'prefer']);

const templateParameters = (where: 'query' | 'header' | 'cookie', names: readonly string[]): Json[] =>
  names
    .filter((name) => where !== 'header' || !DESCRIBED_HEADERS.has(name.toLowerCase()))
    .map((name) => ({
      name,
      in: where,
      required: true,
      schema: { type: 'string' },
      description: "Read by the route's templates: a request without it answers 422.",
    }));

const SUMMARIES: Readonly<Record<Action, (route: Route) => string>> = {
  start: (route) => `Start ${route.workflowType}`,
  signalWithStart: (route) => `Signal ${route.workflowType} (${route.signal?.name}), starting it if needed`,
  updateWithStart: (route) => `Update ${route.workflowType} (${route.update?.name}), starting it if needed`,
  signal: (route) => `Signal ${route.workflowType} (${route.signal?.name})`,
  update: (route) => `Update ${route.workflowType} (${route.update?.name})`,
};

interface Context {
  readonly file: RoutesFile;
  readonly problems: Map<number, ProblemType[]>;
  /** The component holding each input schema: `workflow:<type>`, `route:<name>`. */
  readonly inputs: ReadonlyMap<string, string>;
  /** A unique operation ID for a canonical operation. */
  readonly operationId: (wanted: string) => string;
}

const routeOperation = (route: Route, { file, problems, inputs }: Context): Planned => {
  const { method = 'POST', path = '/', signature } = route.http ?? {};
  const action = route.action ?? 'start';
  const schemaName = inputs.get(`route:${route.name}`) ?? inputs.get(`workflow:${route.workflowType}`);
  const inputSchema = (route.inputSchema ?? file.workflows[route.workflowType]?.inputSchema) as
    | JsonSchema
    | undefined;
  const shape = requestShapeOf(route, inputSchema, schemaName && `#/components/schemas/${schemaName}`);
  const template = (label: string, value: JsonValue | undefined) =>
    value === undefined ? [] : [`${label}: \`${typeof value === 'string' ? value : JSON.stringify(value)}\``];
  const description = [
    `Route "${route.name}" of the routes file: ${action} on workflow type ${route.workflowType}.`,
    ...template('Workflow ID', route.workflowId ?? `${route.workflowType}-{Idempotency-Key or request ID}`),
    ...template('Input', route.input),
    ...(schemaName ? [`The input must satisfy \`#/components/schemas/${schemaName}\`, else 422.`] : []),
    ...(signature ? ['Signed webhook: no authorizer; the signature is its authentication.'] : []),
  ].join('\n\n');
  const takesBody = shape.bodyRead || !['GET', 'DELETE'].includes(method);
  const statuses = [
    ...ACTION_PROBLEMS,
    ...(signature ? [401] : []),
    ...(action === 'signal' || action === 'update' ? [404] : []),
  ];
  return {
    method,
    path,
    pathParameters: Object.fromEntries(
      pathNames(path).map((name) => [name, { description: `\`{path.${name}}\` in the route's templates.` }]),
    ),
    operation: {
      operationId: route.name,
      tags: ['routes'],
      summary: SUMMARIES[action](route),
      description,
      ...(signature && { security: [] }),
      parameters: [
        ...(signature ? [signatureParameter(signature)] : []),
        ref('parameters', 'IdempotencyKey'),
        ref('parameters', 'Prefer'),
        ...templateParameters('query', shape.query),
        ...templateParameters('header', shape.headers),
        ...templateParameters('cookie', shape.cookies),
      ],
      ...(takesBody && {
        requestBody: {
          required: shape.bodyRead,
          description: shape.bodyRead
            ? "JSON, read by the route's templates: a path they name that the body lacks answers 422."
            : "Any JSON: the route's templates do not read it.",
          content: { 'application/json': { schema: shape.body } },
        },
      }),
      responses: {
        200: actionResult(ACTION_ANSWERS[action][200]),
        202: actionResult(ACTION_ANSWERS[action][202]),
        ...errorResponses(problems, statuses, signature === undefined),
      },
    },
  };
};

/** POST /workflows/{workflowType}: the canonical envelope, whose body is the workflow's input. */
const startOperation = ({ file, problems, inputs, operationId }: Context): Planned => {
  const types = Object.keys(file.workflows);
  const schemas = types.map((type) => inputs.get(`workflow:${type}`));
  const named = schemas.filter((name) => name !== undefined);
  const body =
    named.length < types.length || named.length === 0
      ? {}
      : named.length === 1
        ? ref('schemas', named[0] as string)
        : { anyOf: named.map((name) => ref('schemas', name)) };
  const each = types.map((type, index) =>
    schemas[index] ? `${type}: \`#/components/schemas/${schemas[index]}\`` : `${type}: any JSON`,
  );
  return {
    method: 'POST',
    path: '/workflows/{workflow}',
    pathParameters: {
      workflow: {
        description: 'The workflow type to start: one of the allow-list (`workflows`), else 403.',
        schema: { enum: types },
      },
    },
    operation: {
      operationId: operationId('startWorkflow'),
      tags: ['workflows'],
      summary: 'Start an allow-listed workflow type with the body as its input',
      description:
        "The canonical envelope. The workflow ID is `<workflowType>-<Idempotency-Key>`, else `<workflowType>-<API Gateway request ID>`; the task queue is the type's, never the caller's.",
      parameters: [ref('parameters', 'IdempotencyKey'), ref('parameters', 'Prefer')],
      requestBody: {
        required: false,
        description: `The workflow's input, as it is; without a body the workflow gets no arguments. Its schema, by type: ${each.join('; ')}.`,
        content: { 'application/json': { schema: body } },
      },
      responses: {
        200: actionResult(ACTION_ANSWERS.start[200]),
        202: actionResult(ACTION_ANSWERS.start[202]),
        ...errorResponses(problems, [...ACTION_PROBLEMS, 403], true),
      },
    },
  };
};

/** GET /workflows/{workflowId}: the status of a workflow of an allow-listed type (lib/status.ts). */
const statusOperation = ({ problems, operationId }: Context): Planned => ({
  method: 'GET',
  path: '/workflows/{workflow}',
  pathParameters: { workflow: { description: 'The workflow ID.' } },
  operation: {
    operationId: operationId('getWorkflow'),
    tags: ['workflows'],
    summary: "A workflow's latest run, with its result or failure once closed",
    description:
      "Only workflows of an allow-listed type, in that type's namespace, are shown, and only to the caller that started them (behind an authorizer): any other ID answers 404, as an unknown one does.",
    responses: {
      200: {
        description: 'The latest run.',
        headers: { 'Cache-Control': { schema: { const: 'no-store' } } },
        content: { 'application/json': { schema: ref('schemas', 'WorkflowStatus') } },
      },
      ...errorResponses(problems, [404, 413, 415, 500, 503, 504], true),
    },
  },
});

const openapiOperation = ({ problems, operationId }: Context): Planned => ({
  method: 'GET',
  path: OPENAPI_PATH,
  pathParameters: {},
  operation: {
    operationId: operationId('getOpenApiDocument'),
    tags: ['workflows'],
    summary: 'This document',
    responses: {
      200: { description: 'The OpenAPI document.', content: { 'application/json': { schema: {} } } },
      ...errorResponses(problems, [500], true),
    },
  },
});

// --- The document ---------------------------------------------------------------------------------

/** The input schemas, as components: each workflow type's, and each HTTP route's own. */
const inputComponents = (file: RoutesFile) => {
  const name = uniqueNames((text) => text.replace(/[^A-Za-z0-9._-]/g, '_'));
  const schemas: Record<string, JsonValue> = {};
  const inputs = new Map<string, string>();
  const add = (key: string, wanted: string, schema: JsonValue | undefined) => {
    if (schema === undefined) return;
    const component = name(wanted);
    // Its references into itself now start where it is in the document, which an `$id` would change.
    const own =
      schema !== null && typeof schema === 'object' && !Array.isArray(schema)
        ? Object.fromEntries(Object.entries(schema).filter(([keyword]) => keyword !== '$id'))
        : schema;
    schemas[component] = rebased(own, `#/components/schemas/${component}`);
    inputs.set(key, component);
  };
  for (const [type, entry] of Object.entries(file.workflows)) {
    add(`workflow:${type}`, `input.workflow.${type}`, entry.inputSchema);
  }
  for (const route of file.routes) {
    if (route.http !== undefined) add(`route:${route.name}`, `input.route.${route.name}`, route.inputSchema);
  }
  return { schemas, inputs };
};

const DESCRIPTION = `Starts, signals and updates Temporal workflows: the \`http\` routes of the routes file, then the canonical endpoints, matched in that order (the first route that matches a method and path wins; a method and path listed here once).

Every error is \`application/problem+json\` (RFC 9457). A path that no route matches answers 404 (\`${problemType('NoRouteError')}\`); a known path with another method, 405 with \`Allow\`. With CORS_ALLOW_ORIGINS set, OPTIONS preflights are answered too.

Authentication is the deployment's: API Gateway's IAM (SigV4) or JWT authorizer (the httpAuth parameter), except on routes with a webhook signature, which is their authentication.`;

/** The OpenAPI 3.1 document of the HTTP API that a routes file defines. */
export const openapiDocument = (file: RoutesFile, options: OpenApiOptions = {}): Json => {
  const { schemas: inputSchemas, inputs } = inputComponents(file);
  const problems = problemTypes();
  // A route's name is its operation ID (route names are unique); the canonical operations yield to them.
  const operationId = uniqueNames();
  for (const route of file.routes) operationId(route.name);
  const context: Context = { file, problems, inputs, operationId };
  const planned = [
    ...(options.served ? [openapiOperation(context)] : []),
    ...file.routes.filter((route) => route.http !== undefined).map((route) => routeOperation(route, context)),
    startOperation(context),
    statusOperation(context),
  ];
  const paths: Record<string, Record<string, unknown>> = {};
  const keys = new Map<string, string>();
  for (const { method, path, pathParameters, operation } of planned) {
    // One path per shape: OpenAPI takes `/a/{x}` and `/a/{y}` for the same path, named after the first.
    const shape = path.replace(PATH_PARAMETER, '{}');
    const key = keys.get(shape) ?? path;
    keys.set(shape, key);
    const item = paths[key] ?? {};
    paths[key] = item;
    const verb = method.toLowerCase();
    // An earlier route matches every request this one would: it is never reached.
    if (item[verb] !== undefined) continue;
    const own = pathNames(path);
    const parameters = pathNames(key).map((name, index) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
      ...pathParameters[own[index] ?? name],
    }));
    item[verb] = { ...operation, parameters: [...parameters, ...((operation.parameters as Json[]) ?? [])] };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'temporal-aws-triggers HTTP API',
      version: `routes-${createHash('sha256').update(canonicalJson(file)).digest('hex').slice(0, 12)}`,
      description: DESCRIPTION,
    },
    tags: [
      { name: 'routes', description: 'The http routes of the routes file.' },
      { name: 'workflows', description: 'The canonical endpoints.' },
    ],
    security: [{ iam: [] }, { jwt: [] }],
    paths,
    components: {
      schemas: { ...SCHEMAS, ...inputSchemas },
      responses: {
        ...Object.fromEntries(
          [...problems].map(([status, types]) => [`Problem${status}`, problemResponse(status, types)]),
        ),
        ...Object.fromEntries(
          Object.keys(GATEWAY).map((status) => [`Gateway${status}`, gatewayResponse(Number(status))]),
        ),
      },
      parameters: PARAMETERS,
      securitySchemes: {
        iam: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'AWS Signature Version 4 of a principal allowed execute-api:Invoke (httpAuth=iam).',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        jwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT of the configured issuer and audience (httpAuth=jwt).',
        },
      },
    },
  };
};
