import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * The routes file contract. `routes.schema.json` is generated from this (`npm run schema`), so the
 * schema editors complete against and the validation that runs at cold start cannot drift apart.
 * zod/mini keeps the validator small in the bundles; it needs its English messages configured.
 */
z.config(en());

export const ID_REUSE_POLICIES = [
  'ALLOW_DUPLICATE',
  'ALLOW_DUPLICATE_FAILED_ONLY',
  'REJECT_DUPLICATE',
  'TERMINATE_IF_RUNNING',
] as const;

export const ID_CONFLICT_POLICIES = ['FAIL', 'USE_EXISTING', 'TERMINATE_EXISTING'] as const;

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const text = (description: string) => z.string().check(z.minLength(1), z.describe(description));
const optional = <T extends z.core.SomeType>(schema: T, description: string) =>
  z.optional(schema).check(z.describe(description));

const WorkflowSchema = z
  .strictObject({
    taskQueue: optional(
      z.string().check(z.minLength(1)),
      'Task queue the workflow starts on. Falls back to the TEMPORAL_TASK_QUEUE environment variable.',
    ),
    idReusePolicy: optional(
      z.enum(ID_REUSE_POLICIES),
      'What happens when a closed workflow with the same ID exists. Default REJECT_DUPLICATE: an event delivered again never starts a second run.',
    ),
    idConflictPolicy: optional(
      z.enum(ID_CONFLICT_POLICIES),
      'What happens when a running workflow with the same ID exists. Default USE_EXISTING: the start succeeds with started=false.',
    ),
  })
  .check(z.describe('A workflow type that may be started. Types not listed here are never started.'));

const HttpTriggerSchema = z.strictObject({
  method: z.enum(HTTP_METHODS),
  path: z
    .string()
    .check(
      z.regex(/^\/[^\s?#]*$/, 'must start with "/" and hold no query string'),
      z.describe('Path pattern; "{name}" matches one segment and is available as {path.name}.'),
    ),
});

const SqsTriggerSchema = z.strictObject({
  queue: text('Queue name (the last part of the queue ARN).'),
  attributes: optional(
    z.record(z.string(), z.string()),
    'Message attributes that must all be present with these string values.',
  ),
});

const EventBridgeTriggerSchema = z.strictObject({
  source: text('The event\'s "source".'),
  detailType: text('The event\'s "detail-type".'),
});

const ScheduleTriggerSchema = z.strictObject({
  rule: text('Name of the EventBridge scheduled rule (the last part of the rule ARN).'),
});

export const TRIGGERS = ['http', 'sqs', 'eventbridge', 'schedule'] as const;
export type TriggerKind = (typeof TRIGGERS)[number];

const RouteSchema = z
  .strictObject({
    name: text('Unique route name, used in logs and errors.'),
    http: optional(HttpTriggerSchema, 'Start on an API Gateway request.'),
    sqs: optional(SqsTriggerSchema, 'Start on an SQS message.'),
    eventbridge: optional(EventBridgeTriggerSchema, 'Start on a custom EventBridge event.'),
    schedule: optional(ScheduleTriggerSchema, 'Start on a tick of an EventBridge scheduled rule.'),
    workflowType: text('Workflow type name; must be a key of "workflows".'),
    workflowId: text('Workflow ID template. Build it from a business key so duplicates collapse.'),
    input: optional(
      z.json(),
      'Workflow input template. A string that is exactly "{path}" becomes the value at that path; "{path}" inside a longer string is interpolated; objects and arrays are templated recursively. Without it the workflow gets no arguments.',
    ),
  })
  .check(
    z.refine((route) => TRIGGERS.filter((kind) => route[kind] !== undefined).length === 1, {
      message: `a route needs exactly one of ${TRIGGERS.join(', ')}`,
    }),
  );

export const RoutesFileSchema = z.strictObject({
  $schema: z.optional(z.string()),
  workflows: z
    .record(z.string().check(z.minLength(1)), WorkflowSchema)
    .check(z.describe('The allow-list of workflow types, by type name.')),
  routes: z._default(z.array(RouteSchema), []),
});

export type RoutesFile = z.output<typeof RoutesFileSchema>;
export type Route = RoutesFile['routes'][number];
export type IdReusePolicy = (typeof ID_REUSE_POLICIES)[number];
export type IdConflictPolicy = (typeof ID_CONFLICT_POLICIES)[number];
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type JsonValue = z.output<ReturnType<typeof z.json>>;
