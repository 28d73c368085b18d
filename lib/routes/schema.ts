import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { TRIGGERS } from './triggers.ts';

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

/** A duration as Temporal's SDKs take it: milliseconds, or a number and a unit ("30s", "5m", "1.5h", "2d"). */
const DURATION = /^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)$/;
const duration = (description: string) =>
  optional(
    z.union([
      z.number().check(z.nonnegative()),
      z.string().check(z.regex(DURATION, 'must be milliseconds, or a number with ms, s, m, h or d')),
    ]),
    description,
  );

export const SEARCH_ATTRIBUTE_TYPES = [
  'TEXT',
  'KEYWORD',
  'INT',
  'DOUBLE',
  'BOOL',
  'DATETIME',
  'KEYWORD_LIST',
] as const;

const RetryPolicySchema = z.strictObject({
  initialInterval: duration('Wait before the first retry (default 1s).'),
  backoffCoefficient: optional(z.number().check(z.gte(1)), 'Growth of each wait (default 2).'),
  maximumInterval: duration('Longest wait between attempts (default 100 times the initial interval).'),
  maximumAttempts: optional(z.number().check(z.int(), z.nonnegative()), 'Attempts in all; 0 is unlimited.'),
  nonRetryableErrorTypes: optional(z.array(z.string()), 'Application failure types never retried.'),
});

/**
 * Start options, per workflow type in `workflows` (static values) and per route (where string values
 * may be templates, rendered against the event like `input`): what `WorkflowOptions` of the TypeScript
 * SDK calls the same names. A route's value replaces its type's; `memo` and `searchAttributes` are merged.
 */
export const startOptionsShape = {
  memo: optional(
    z.record(z.string(), z.json()),
    'Memo fields, shown with the workflow (decoded by its data converter).',
  ),
  searchAttributes: optional(
    z.record(z.string(), z.json()),
    'Search attribute values, by name; each name must be declared with its type in the top-level "searchAttributes".',
  ),
  startDelay: duration('Time to wait before the first workflow task.'),
  executionTimeout: duration('Limit of the whole execution, continue-as-new and retries included.'),
  runTimeout: duration('Limit of a single run.'),
  taskTimeout: duration('Limit of a single workflow task (default 10s).'),
  retry: optional(RetryPolicySchema, 'Retry policy of the workflow (by default workflows are not retried).'),
  priority: optional(
    z.strictObject({
      priorityKey: optional(
        z.number().check(z.int(), z.positive()),
        '1 runs first; the server default is 3 of 1 to 5.',
      ),
      fairnessKey: optional(z.string(), 'Key of the fairness balancing between tenants (at most 64 bytes).'),
      fairnessWeight: optional(z.number().check(z.positive()), "The fairness key's weight (default 1)."),
    }),
    'Task priority and fairness.',
  ),
  staticSummary: optional(z.string(), 'One-line summary shown in the Temporal UI.'),
  staticDetails: optional(z.string(), 'Longer details shown in the Temporal UI (Markdown).'),
};

/**
 * A JSON Schema (draft 2020-12) for a workflow's input: an object, or true / false. Its own validity is
 * checked when it is compiled (infra/build.ts for the bundled file, the cold start for a ROUTES_FILE).
 */
const inputSchema = (description: string) =>
  optional(z.union([z.boolean(), z.record(z.string(), z.json())]), description);

const WorkflowSchema = z
  .strictObject({
    ...startOptionsShape,
    inputSchema: inputSchema(
      "JSON Schema (2020-12) the workflow's input must satisfy, on every route that starts it and through the canonical envelope. Input that does not never reaches Temporal: HTTP answers 422, SQS, EventBridge, Kinesis and DynamoDB fail the event permanently.",
    ),
    namespace: optional(
      z.string().check(z.minLength(1)),
      'Namespace of this type, when not the default (TEMPORAL_NAMESPACE). It gets a connection of its own.',
    ),
    address: optional(
      z.string().check(z.minLength(1)),
      'Frontend address of that namespace (on Temporal Cloud a namespace has its own endpoint); default TEMPORAL_ADDRESS.',
    ),
    secretId: optional(
      z.string().check(z.minLength(1)),
      'Secrets Manager secret with the credentials for that namespace, in the format of TEMPORAL_SECRET_ID; default TEMPORAL_SECRET_ID.',
    ),
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

export const SIGNATURE_SCHEMES = ['github', 'stripe', 'hmac-sha256'] as const;

const SecretSourceSchema = z.union([
  z.strictObject({ env: text('Environment variable that holds the secret.') }),
  z.strictObject({
    secretId: text('Secrets Manager secret name or ARN.'),
    field: optional(
      z.string().check(z.minLength(1)),
      "Key of the secret's JSON object that holds the value; without it the whole secret string is the value.",
    ),
  }),
]);

const SignatureSchema = z
  .strictObject({
    scheme: z
      .enum(SIGNATURE_SCHEMES)
      .check(
        z.describe(
          'github: "x-hub-signature-256: sha256=<hex>" over the raw body. stripe: "stripe-signature: t=<unix>,v1=<hex>" over "<t>.<body>". hmac-sha256: "<header>: <prefix><hex>" over the raw body.',
        ),
      ),
    secret: SecretSourceSchema,
    header: optional(
      z.string().check(z.minLength(1)),
      'Header that carries the signature. Defaults: x-hub-signature-256 (github), stripe-signature (stripe); required for hmac-sha256.',
    ),
    prefix: optional(z.string(), 'Text before the hex digest in the header (hmac-sha256 only).'),
    toleranceSeconds: optional(
      z.number().check(z.int(), z.positive()),
      'Largest age of a signed timestamp accepted (stripe only; default 300).',
    ),
  })
  .check(
    z.describe('Requests must carry a valid HMAC-SHA256 signature; others answer 401 and start nothing.'),
  );

const HttpTriggerSchema = z.strictObject({
  method: z.enum(HTTP_METHODS),
  path: z
    .string()
    .check(
      z.regex(/^\/[^\s?#]*$/, 'must start with "/" and hold no query string'),
      z.describe('Path pattern; "{name}" matches one segment and is available as {path.name}.'),
    ),
  signature: optional(SignatureSchema, 'Webhook signature the request must carry.'),
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
  detail: optional(
    z.record(z.string(), z.json()),
    'Fields the event\'s "detail" must hold with equal values; nested objects match the same way.',
  ),
});

/** EventBridge rule and Scheduler schedule expressions (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html). */
const expression = (description: string) =>
  optional(
    z.string().check(z.regex(/^(?:rate|cron|at)\(.+\)$/, 'must be rate(...), cron(...) or at(...)')),
    description,
  );

const ScheduleTriggerSchema = z.strictObject({
  rule: text('Name of the EventBridge scheduled rule (the last part of the rule ARN).'),
  expression: expression(
    'Schedule expression, rate(...) or cron(...), of the rule the deployment creates on the default bus. Without it the rule is made elsewhere.',
  ),
});

const SchedulerTriggerSchema = z.strictObject({
  name: text('Name of the EventBridge Scheduler schedule.'),
  group: optional(z.string().check(z.minLength(1)), 'Its schedule group (default "default").'),
  expression: expression(
    'Schedule expression, rate(...), cron(...) or at(...), of the schedule the deployment creates. Without it the schedule is made elsewhere.',
  ),
});

const SnsTriggerSchema = z.strictObject({
  topic: text('Topic name (the last part of the topic ARN) of a topic the function is subscribed to.'),
  attributes: optional(
    z.record(z.string(), z.string()),
    'Message attributes (String or Number) that must all be present with these values.',
  ),
});

/** An S3 event name as a notification configuration names it: `ObjectCreated:*`, `ObjectRemoved:Delete`. */
const S3_EVENT = /^[A-Za-z]+:(?:\*|[A-Za-z]+(?::(?:\*|[A-Za-z]+))?)$/;

const S3TriggerSchema = z.strictObject({
  bucket: text('Bucket name.'),
  prefix: optional(z.string().check(z.minLength(1)), 'Object keys must start with this (as decoded).'),
  suffix: optional(z.string().check(z.minLength(1)), 'Object keys must end with this (as decoded).'),
  events: optional(
    z
      .array(z.string().check(z.regex(S3_EVENT, 'must be an S3 event name such as "ObjectCreated:*"')))
      .check(z.minLength(1)),
    'S3 event names the event must have, as a notification configuration names them ("ObjectCreated:*", "ObjectRemoved:Delete"); default every event.',
  ),
});

const KinesisTriggerSchema = z.strictObject({
  stream: text('Kinesis data stream name (the last part of the stream ARN).'),
});

export const DYNAMODB_EVENT_NAMES = ['INSERT', 'MODIFY', 'REMOVE'] as const;

const DynamoDbTriggerSchema = z.strictObject({
  table: text('DynamoDB table name (the table part of the stream ARN).'),
  eventName: optional(
    z.union([z.enum(DYNAMODB_EVENT_NAMES), z.array(z.enum(DYNAMODB_EVENT_NAMES)).check(z.minLength(1))]),
    'The change, or changes, the route takes: INSERT, MODIFY, REMOVE. Without it, every change of the table.',
  ),
});

export const ACTIONS = ['start', 'signalWithStart', 'updateWithStart', 'signal', 'update'] as const;
export const UPDATE_WAITS = ['accepted', 'completed'] as const;

const argsOf = (what: string) =>
  optional(
    z.array(z.json()),
    `Arguments of the ${what}, one template per argument, rendered like "input". Without it, none.`,
  );

const SignalSchema = z.strictObject({
  name: text('Signal name.'),
  args: argsOf('signal'),
});

const UpdateSchema = z.strictObject({
  name: text('Update name.'),
  args: argsOf('update'),
  waitFor: optional(
    z.enum(UPDATE_WAITS),
    'SQS, EventBridge, Kinesis and DynamoDB: wait until the update is accepted (default), or until it completes. HTTP waits for completion within its wait budget either way.',
  ),
});

const RouteSchema = z
  .strictObject({
    ...startOptionsShape,
    name: text('Unique route name, used in logs and errors.'),
    action: optional(
      z.enum(ACTIONS),
      'What the event does (default start). signalWithStart and updateWithStart start the workflow if it is not running; signal and update address one that must exist.',
    ),
    signal: optional(SignalSchema, 'The signal of signal and signalWithStart.'),
    update: optional(UpdateSchema, 'The update of update and updateWithStart.'),
    missingWorkflowRetrySeconds: optional(
      z.number().check(z.int(), z.nonnegative()),
      'signal and update from SQS, EventBridge, Kinesis or DynamoDB: for this long after the event was sent (default 300), a missing workflow may still be starting, and the event is retried; after it, it fails permanently.',
    ),
    http: optional(HttpTriggerSchema, 'Start on an API Gateway request.'),
    sqs: optional(SqsTriggerSchema, 'Start on an SQS message.'),
    eventbridge: optional(EventBridgeTriggerSchema, 'Start on a custom EventBridge event.'),
    schedule: optional(ScheduleTriggerSchema, 'Start on a tick of an EventBridge scheduled rule.'),
    scheduler: optional(
      SchedulerTriggerSchema,
      "Start on a tick of an EventBridge Scheduler schedule: its default payload, or a target input that holds the schedule's ARN and scheduled time.",
    ),
    sns: optional(SnsTriggerSchema, 'Start on an SNS message, delivered to the function by a subscription.'),
    s3: optional(S3TriggerSchema, 'Start on an S3 event notification, delivered to the function directly.'),
    kinesis: optional(
      KinesisTriggerSchema,
      "Start on a record of a Kinesis data stream; the record's data must be JSON (base64-decoded, it is {data}).",
    ),
    dynamodb: optional(
      DynamoDbTriggerSchema,
      'Start on a change record of a DynamoDB stream; its images are plain JSON ({newImage}, {oldImage}, {keys}).',
    ),
    workflowType: text('Workflow type name; must be a key of "workflows".'),
    workflowId: optional(
      z.string().check(z.minLength(1)),
      'Workflow ID template. Build it from a business key so duplicates collapse. Default: "<workflowType>-" and the event\'s identity (http: Idempotency-Key header, else the request ID; sqs: message ID; eventbridge: event ID; schedule: rule name and time; scheduler: group, name and scheduled time; sns: message ID; s3: bucket, key and sequencer; kinesis: stream, shard ID and sequence number; dynamodb: event ID).',
    ),
    inputSchema: inputSchema(
      "JSON Schema (2020-12) the rendered input must satisfy on this route, in place of its workflow type's.",
    ),
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
  searchAttributes: optional(
    z.record(z.string().check(z.minLength(1)), z.enum(SEARCH_ATTRIBUTE_TYPES)),
    'The custom search attributes that workflows and routes set, with their types. Values are checked and converted to the type; each must be registered on the namespace.',
  ),
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
export type Signature = z.output<typeof SignatureSchema>;
export type SecretSource = z.output<typeof SecretSourceSchema>;
export type JsonValue = z.output<ReturnType<typeof z.json>>;
export type WorkflowEntry = RoutesFile['workflows'][string];
export type Action = (typeof ACTIONS)[number];
export type UpdateWait = (typeof UPDATE_WAITS)[number];
export type DynamoDbEventName = (typeof DYNAMODB_EVENT_NAMES)[number];
export type SearchAttributeTypeName = (typeof SEARCH_ATTRIBUTE_TYPES)[number];
/** The start options a workflow type and a route may both set. */
export type StartOptionsSpec = Pick<WorkflowEntry, keyof typeof startOptionsShape>;
