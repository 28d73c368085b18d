import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CORS, checkCorsOrigins } from '../lib/http/cors.ts';
import { OPENAPI_PATH } from '../lib/http/openapiPath.ts';
import type { JsonValue, Route, RoutesFile } from '../lib/routes/schema.ts';
import type { TriggerKind } from '../lib/routes/triggers.ts';

/**
 * Everything the deployment takes from the routes file, derived from dist/routes.json, the copy of the
 * routes `npm run build` bundled into the functions: the HTTP API's routes, one queue (with its
 * dead-letter queue, alarm and event source mapping) per queue name, one rule per EventBridge route and
 * per schedule with an expression, one EventBridge Scheduler schedule per scheduler route with an
 * expression, and the permissions each needs. serverless.yml reads it as `${self:custom.derived.<key>}`;
 * adding a route means editing the routes file only.
 *
 * osls loads this through infra/derive.cjs (its `file` variable source require()s .js and .cjs files
 * only; Node 24 strips the types), so it imports nothing but node: modules, lib/http/cors.ts,
 * lib/http/openapiPath.ts and types.
 */

/** The routes file the build bundled, as it bundled it (infra/build.ts writes it). */
export const DERIVED_ROUTES_FILE = join(import.meta.dirname, '..', 'dist', 'routes.json');

/** Logical IDs of the resources the derived ones refer to, defined by serverless or infra/resources/. */
export const EVENTBRIDGE_FUNCTION = 'EventbridgeLambdaFunction';
export const SQS_FUNCTION = 'SqsLambdaFunction';
export const SQS_FUNCTION_ROLE = 'SqsFunctionRole';
export const EVENTS_DEAD_LETTER_QUEUE = 'EventsDeadLetterQueue';
export const HTTP_FUNCTION = 'HttpLambdaFunction';
export const DASHBOARD = 'Dashboard';
/** The streams function, its role and its on-failure queue: derived, and only with stream routes. */
export const STREAMS_FUNCTION = 'StreamsLambdaFunction';
export const STREAMS_FUNCTION_ROLE = 'StreamsFunctionRole';
export const STREAMS_DEAD_LETTER_QUEUE = 'StreamsDeadLetterQueue';

/** A failed SQS message is received this many times, then moves to its queue's dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/** The standard queues' batching window: fewer invocations under load, at most a second of latency. */
const BATCHING_WINDOW_SECONDS = 1;
/**
 * EventBridge's and Scheduler's delivery to the function (throttled, or not permitted): retried for up
 * to an hour, then the event goes to the dead-letter queue with the reason in its message attributes.
 */
export const DELIVERY_RETRY_POLICY = { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 };

/** An error in what the deployment was given. osls prints an error's stack: this one's is its message. */
export class DeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentError';
    this.stack = message;
  }
}

export interface DeploymentSettings {
  /** The custom event bus the stack creates (the eventBusName parameter). */
  readonly eventBusName: string;
  /** The httpApi `authorizer` of every route without a webhook signature (infra/resources/http-auth-*.yml). */
  readonly authorizer: unknown;
  /** The corsAllowOrigins parameter: comma-separated origins, or empty. */
  readonly corsAllowOrigins: string;
  /** The httpOpenapi parameter: GET /openapi.json, the OpenAPI document, routed to the http function. */
  readonly openapi?: boolean;
  /** The sqs function's timeout: a queue hides a received message for six times it (AWS's advice). */
  readonly sqsTimeoutSeconds: number;
  /** Where every alarm notifies (`custom.alarmActions`, shared with infra/resources/alarms.yml). */
  readonly alarmActions: unknown;
  /** The functions' metrics: their CloudWatch namespace, and the `service` dimension they carry. */
  readonly metrics: { readonly namespace: string; readonly service: string };
  /** What the kinesis and dynamodb routes' event source mappings read (the streams parameters); none by default. */
  readonly streams?: StreamSettings;
}

export interface StreamSettings {
  /** kinesisStreamArns: ARNs of the streams whose ARN is not this stack's region and account. */
  readonly kinesisStreamArns: readonly string[];
  /** dynamodbStreamArns: the stream ARN of every table a route names (it ends in a label, never derived). */
  readonly dynamodbStreamArns: readonly string[];
  /** streamsStartingPosition: LATEST or TRIM_HORIZON, where a new mapping starts reading. */
  readonly startingPosition: string;
}

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

export interface Derived {
  /** The http function's `httpApi` events. */
  readonly httpEvents: readonly { httpApi: Record<string, unknown> }[];
  /** The sqs function's `sqs` events, one per queue. */
  readonly sqsEvents: readonly { sqs: Record<string, unknown> }[];
  /** The streams function, when kinesis or dynamodb routes need it; null leaves it out of the stack. */
  readonly streamsFunction: Record<string, unknown> | null;
  /** The HTTP API's CorsConfiguration when corsAllowOrigins is set. */
  readonly cors: Record<string, unknown>;
  /** A `resources` fragment: the queues, rules, schedules and their permissions, alarms and outputs. */
  readonly resources: {
    readonly Resources: Record<string, Resource>;
    readonly Outputs: Record<string, { Value: unknown }>;
    readonly extensions: Record<string, Record<string, unknown>>;
  };
}

const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
const allow = (Action: string | string[], Resource: unknown) => ({ Effect: 'Allow', Action, Resource });
const policy = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });

/** `nightly-report` → `NightlyReport`, `orders.fifo` → `OrdersFifo`: a name as part of a logical ID. */
const pascal = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '')
    .map((word) => `${word[0]?.toUpperCase()}${word.slice(1)}`)
    .join('');

/**
 * The logical ID serverless gave the event bus when it created it from an `eventBridge` event
 * (naming.getEventBridgeEventBusLogicalId), kept so that a stack deployed before keeps its bus: a bus
 * under a new logical ID would be created again under the same name, which CloudFormation refuses.
 */
const eventBusLogicalId = (name: string): string =>
  `${pascal(name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore'))}EventBridgeEventBus`;

/**
 * Encryption at rest of every queue, stated: with the stack's customer managed key when kmsKeyArn is set
 * (HasKmsKey, infra/resources/parameters.yml), else SQS managed keys (SSE-SQS). The two exclude each other.
 */
export const QUEUE_ENCRYPTION = {
  KmsMasterKeyId: { 'Fn::If': ['HasKmsKey', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }] },
  SqsManagedSseEnabled: { 'Fn::If': ['HasKmsKey', false, true] },
} as const;

/** SQS queue names (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html). */
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** EventBridge rule, Scheduler schedule and schedule group names: the same rule for all three. */
const RESOURCE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A route's `detail` as an EventBridge pattern: each leaf value in an array, nested objects alike, so
 * the rule matches what the function's route matches. An array or an empty object has no exact
 * pattern (a pattern array means "any of"), so it is a problem rather than a rule that matches more.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
const detailPattern = (value: JsonValue, at: string, problems: string[]): unknown => {
  if (Array.isArray(value)) {
    problems.push(`${at} is an array, which no EventBridge pattern matches exactly`);
    return undefined;
  }
  if (value === null || typeof value !== 'object') return [value];
  const entries = Object.entries(value);
  if (entries.length === 0) problems.push(`${at} is an empty object, which no EventBridge pattern matches`);
  return Object.fromEntries(
    entries.map(([key, item]) => [key, detailPattern(item, `${at}.${key}`, problems)]),
  );
};

/** Each distinct value once; a second, different value under the same key is a problem. */
const distinct = <T>(
  items: readonly (readonly [key: string, item: T, owner: string])[],
  what: string,
  problems: string[],
) => {
  const seen = new Map<string, [T, string]>();
  for (const [key, item, owner] of items) {
    const first = seen.get(key);
    if (first === undefined) seen.set(key, [item, owner]);
    else if (JSON.stringify(first[0]) !== JSON.stringify(item)) {
      problems.push(`${owner} and ${first[1]} name the same ${what} ${key} differently`);
    }
  }
  return [...seen.values()].map(([item]) => item);
};

const routesOf = <K extends TriggerKind>(file: RoutesFile, kind: K) =>
  file.routes.flatMap((route) => {
    const trigger = route[kind];
    return trigger === undefined ? [] : [{ route, trigger: trigger as NonNullable<Route[K]> }];
  });

/** What the derivation builds up: the resources fragment, and the problems that stop it. */
class Stack {
  readonly problems: string[] = [];
  readonly Resources: Record<string, Resource> = {};
  readonly Outputs: Record<string, { Value: unknown }> = {};
  readonly extensions: Record<string, Record<string, unknown>> = {};
  // serverless merges resources of the same logical ID without a word, so every ID is claimed once,
  // and none may be one the derived resources refer to.
  readonly #owners = new Map<string, string>(
    [
      EVENTBRIDGE_FUNCTION,
      SQS_FUNCTION,
      SQS_FUNCTION_ROLE,
      EVENTS_DEAD_LETTER_QUEUE,
      HTTP_FUNCTION,
      STREAMS_FUNCTION,
      'StreamsLogGroup',
    ].map((id) => [id, 'the stack']),
  );

  /** Adds a resource under a logical ID that `owner`, a thing of the routes file, claims; returns the ID. */
  add(owner: string, id: string, resource: Resource): string {
    const holder = this.#owners.get(id);
    if (holder !== undefined)
      this.problems.push(`${owner}: its logical ID ${id} is taken by ${holder}; rename one`);
    this.#owners.set(id, owner);
    this.Resources[id] = resource;
    return id;
  }

  checkName(owner: string, name: string, what: string): void {
    if (!RESOURCE_NAME.test(name)) {
      this.problems.push(`${owner}: "${name}" names ${what}: letters, digits, ".", "-" and "_", at most 64`);
    }
  }
}

const WORKFLOW_API = [
  ['POST', '/workflows/{workflowType}'],
  ['GET', '/workflows/{workflowId}'],
] as const;

/**
 * The workflow API (with the OpenAPI document when it is served), then one route per method and path; a
 * signed webhook is its own authentication. The document has the authorizer of the API it describes.
 */
const httpEvents = (file: RoutesFile, { authorizer, openapi }: DeploymentSettings, stack: Stack) => {
  const api = openapi ? [...WORKFLOW_API, ['GET', OPENAPI_PATH] as const] : WORKFLOW_API;
  if (openapi) {
    // The function serves the document before any route: a route of the file there would never be reached.
    for (const { route } of routesOf(file, 'http').filter(
      ({ trigger }) => trigger.method === 'GET' && trigger.path === OPENAPI_PATH,
    )) {
      stack.problems.push(
        `route "${route.name}": GET ${OPENAPI_PATH} serves the OpenAPI document (httpOpenapi is on); move the route, or turn httpOpenapi off`,
      );
    }
  }
  return distinct(
    [
      ...api.map(
        ([method, path]) =>
          [`${method} ${path}`, { method, path, signed: false }, 'the workflow API'] as const,
      ),
      ...routesOf(file, 'http').map(({ route, trigger: { method, path, signature } }) => {
        const item = { method, path, signed: signature !== undefined };
        return [`${method} ${path}`, item, `route "${route.name}"`] as const;
      }),
    ],
    'HTTP route',
    stack.problems,
  ).map(({ method, path, signed }) => ({
    httpApi: signed ? { method, path } : { method, path, authorizer },
  }));
};

/** An alarm that fires when its metric is above `Threshold` (zero) in a five-minute period, and clears when not. */
const addAlarm = (
  stack: Stack,
  owner: string,
  id: string,
  properties: Record<string, unknown>,
  { alarmActions }: DeploymentSettings,
): void => {
  stack.add(owner, id, {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      ...properties,
      AlarmActions: alarmActions,
      OKActions: alarmActions,
    },
  });
};

/** An alarm when a message waits in the dead-letter queue `id`. */
const deadLetterAlarm = (
  stack: Stack,
  owner: string,
  id: string,
  description: string,
  settings: DeploymentSettings,
): void =>
  addAlarm(
    stack,
    owner,
    `${id}Alarm`,
    {
      AlarmDescription: description,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(id, 'QueueName') }],
      Statistic: 'Maximum',
    },
    settings,
  );

/** A queue per name, FIFO when the name ends in .fifo, each with its dead-letter queue and alarm. */
const sqsEvents = (file: RoutesFile, settings: DeploymentSettings, stack: Stack) => {
  const names = distinct(
    routesOf(file, 'sqs').map(
      ({ route, trigger: { queue } }) => [queue, queue, `route "${route.name}"`] as const,
    ),
    'queue',
    stack.problems,
  );
  const events = names.map((name) => {
    const owner = `queue "${name}"`;
    const fifo = name.endsWith('.fifo');
    const base = fifo ? name.slice(0, -'.fifo'.length) : name;
    const deadLetterName = fifo ? `${base}-dlq.fifo` : `${name}-dlq`;
    if (!QUEUE_NAME.test(base) || deadLetterName.length > 80) {
      stack.problems.push(
        `${owner}: an SQS queue name holds letters, digits, "-" and "_" (and ends in ".fifo" for FIFO), ` +
          `and its dead-letter queue "${deadLetterName}" at most 80 characters`,
      );
    }
    const id = pascal(name);
    const deadLetters = stack.add(owner, `${id}DeadLetterQueue`, {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: deadLetterName,
        // A FIFO queue's dead-letter queue must be FIFO too.
        ...(fifo && { FifoQueue: true }),
        MessageRetentionPeriod: 1209600, // 14 days, the maximum, to inspect and redrive
        ...QUEUE_ENCRYPTION,
      },
    });
    const queue = stack.add(owner, `${id}Queue`, {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: name,
        ...(fifo && {
          FifoQueue: true,
          // Producers may leave out MessageDeduplicationId: the body's SHA-256 deduplicates for 5 minutes.
          ContentBasedDeduplication: true,
          // High-throughput FIFO: order and deduplication per message group.
          DeduplicationScope: 'messageGroup',
          FifoThroughputLimit: 'perMessageGroupId',
        }),
        // At least six times the sqs function's timeout plus the batching window, as AWS recommends for
        // Lambda consumers, so a batch retried after a throttle is not received twice.
        // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
        VisibilityTimeout: 6 * settings.sqsTimeoutSeconds + (fifo ? 0 : BATCHING_WINDOW_SECONDS),
        ...QUEUE_ENCRYPTION,
        // After five failed receives a message moves to the dead-letter queue instead of retrying forever.
        RedrivePolicy: {
          deadLetterTargetArn: getAtt(deadLetters, 'Arn'),
          maxReceiveCount: MAX_RECEIVE_COUNT,
        },
      },
    });
    deadLetterAlarm(
      stack,
      owner,
      deadLetters,
      `Messages of queue ${name} the sqs function failed ${MAX_RECEIVE_COUNT} times are waiting in its dead-letter queue.`,
      settings,
    );
    stack.Outputs[`${queue}Url`] = { Value: { Ref: queue } };
    stack.Outputs[`${deadLetters}Url`] = { Value: { Ref: deadLetters } };
    return {
      sqs: {
        arn: getAtt(queue, 'Arn'),
        batchSize: 10,
        // FIFO queues take no batching window. https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html
        ...(!fifo && { maximumBatchingWindow: BATCHING_WINDOW_SECONDS }),
        // Only the records the function lists fail (for FIFO, the first failure and every record after
        // it in its message group); the rest of the batch is deleted.
        // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
        functionResponseType: 'ReportBatchItemFailures',
        // At most five invocations at once, each starting up to SQS_CONCURRENCY workflows in parallel: a
        // bound on the load a burst puts on Temporal. Messages wait in the queue instead of being throttled.
        maximumConcurrency: 5,
      },
    };
  });
  if (events.length > 0) {
    // What the event source mappings need to poll the queues and delete what the function processed
    // (AWSLambdaSQSQueueExecutionRole, for these queues only). The function never sends to a dead-letter
    // queue: SQS moves messages there itself. The function, and so each mapping, waits for it.
    stack.add('the sqs function', 'SqsQueuesPolicy', {
      Type: 'AWS::IAM::RolePolicy',
      Properties: {
        RoleName: { Ref: SQS_FUNCTION_ROLE },
        PolicyName: 'queues',
        PolicyDocument: policy(
          allow(
            ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
            events.map(({ sqs }) => sqs.arn),
          ),
        ),
      },
    });
    stack.extensions[SQS_FUNCTION] = { DependsOn: ['SqsQueuesPolicy'] };
  }
  return events;
};

/**
 * A rule per EventBridge route, named after it, on the stack's bus; a rule per schedule with an
 * expression, named as the route says, on the default bus (without an expression the rule is made
 * elsewhere). Each delivers to the function with a bounded retry, then to the dead-letter queue.
 */
const rules = (file: RoutesFile, { eventBusName }: DeploymentSettings, stack: Stack) => {
  const ids: string[] = [];
  const addRule = (owner: string, id: string, properties: Record<string, unknown>) => {
    stack.checkName(owner, String(properties.Name), 'an EventBridge rule');
    const rule = stack.add(owner, id, {
      Type: 'AWS::Events::Rule',
      Properties: {
        ...properties,
        State: 'ENABLED',
        Targets: [
          {
            Id: 'eventbridge-function',
            Arn: getAtt(EVENTBRIDGE_FUNCTION, 'Arn'),
            RetryPolicy: DELIVERY_RETRY_POLICY,
            DeadLetterConfig: { Arn: getAtt(EVENTS_DEAD_LETTER_QUEUE, 'Arn') },
          },
        ],
      },
    });
    stack.add(owner, `${rule}Permission`, {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(EVENTBRIDGE_FUNCTION, 'Arn'),
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt(rule, 'Arn'),
      },
    });
    ids.push(rule);
  };

  const bus = stack.add('the event bus', eventBusLogicalId(eventBusName), {
    Type: 'AWS::Events::EventBus',
    Properties: { Name: eventBusName },
  });
  for (const { route, trigger } of routesOf(file, 'eventbridge')) {
    const owner = `route "${route.name}"`;
    const detail =
      trigger.detail === undefined
        ? {}
        : { detail: detailPattern(trigger.detail, `${owner}: detail`, stack.problems) };
    addRule(owner, `${pascal(route.name)}Rule`, {
      Name: route.name,
      Description: `Route "${route.name}" of the routes file`,
      EventBusName: { Ref: bus },
      EventPattern: { source: [trigger.source], 'detail-type': [trigger.detailType], ...detail },
    });
  }

  const schedules = distinct(
    routesOf(file, 'schedule').map(
      ({ route, trigger }) => [trigger.rule, trigger, `route "${route.name}"`] as const,
    ),
    'schedule rule',
    stack.problems,
  );
  for (const { rule, expression } of schedules) {
    if (expression === undefined) continue;
    const owner = `schedule rule "${rule}"`;
    if (expression.startsWith('at(')) {
      stack.problems.push(
        `${owner}: an EventBridge rule runs on rate(...) or cron(...); at(...) needs a scheduler route`,
      );
    }
    addRule(owner, `${pascal(rule)}ScheduleRule`, {
      Name: rule,
      Description: `Schedule rule "${rule}" of the routes file`,
      ScheduleExpression: expression,
    });
  }

  if (ids.length > 0) {
    // EventBridge delivers to a rule's dead-letter queue with its own service principal; only these
    // rules may. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
    stack.add('the rules', `${EVENTS_DEAD_LETTER_QUEUE}Policy`, {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: EVENTS_DEAD_LETTER_QUEUE }],
        PolicyDocument: policy({
          ...allow('sqs:SendMessage', getAtt(EVENTS_DEAD_LETTER_QUEUE, 'Arn')),
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': ids.map((rule) => getAtt(rule, 'Arn')) } },
        }),
      },
    });
  }
};

/**
 * An EventBridge Scheduler schedule per scheduler route with an expression, in its group (created
 * unless it is "default"). Its target sets no input, so Scheduler sends its default payload, which
 * names the schedule and the tick's time.
 */
const schedulerSchedules = (file: RoutesFile, stack: Stack) => {
  const schedules = distinct(
    routesOf(file, 'scheduler').map(({ route, trigger }) => {
      const key = `${trigger.group ?? 'default'}/${trigger.name}`;
      return [key, trigger, `route "${route.name}"`] as const;
    }),
    'schedule',
    stack.problems,
  ).filter(({ expression }) => expression !== undefined);
  const groups = new Map<string, string>();
  for (const { name, group = 'default', expression } of schedules) {
    const owner = `schedule "${group}/${name}"`;
    stack.checkName(owner, name, 'a schedule');
    stack.checkName(owner, group, 'a schedule group');
    if (group !== 'default' && !groups.has(group)) {
      groups.set(
        group,
        stack.add(`schedule group "${group}"`, `${pascal(group)}ScheduleGroup`, {
          Type: 'AWS::Scheduler::ScheduleGroup',
          Properties: { Name: group },
        }),
      );
    }
    const groupId = groups.get(group);
    stack.add(owner, `${group === 'default' ? '' : pascal(group)}${pascal(name)}Schedule`, {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: name,
        ...(groupId !== undefined && { GroupName: { Ref: groupId } }),
        Description: `Scheduler route "${group}/${name}" of the routes file`,
        ScheduleExpression: expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: getAtt(EVENTBRIDGE_FUNCTION, 'Arn'),
          RoleArn: getAtt('SchedulerRole', 'Arn'),
          RetryPolicy: DELIVERY_RETRY_POLICY,
          DeadLetterConfig: { Arn: getAtt(EVENTS_DEAD_LETTER_QUEUE, 'Arn') },
        },
      },
    });
  }
  if (schedules.length > 0) {
    // Scheduler invokes the function, and sends what it could not deliver to the dead-letter queue, with
    // this role. https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
    stack.add('the schedules', 'SchedulerRole', {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: policy({
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'scheduler.amazonaws.com' },
          // Only for this account's schedules (the confused deputy).
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        }),
        Policies: [
          {
            PolicyName: 'invoke-and-dead-letters',
            PolicyDocument: policy(
              allow('lambda:InvokeFunction', getAtt(EVENTBRIDGE_FUNCTION, 'Arn')),
              allow('sqs:SendMessage', getAtt(EVENTS_DEAD_LETTER_QUEUE, 'Arn')),
            ),
          },
          // Scheduler sends to the dead-letter queue with this role: with the stack's customer managed
          // key, that takes the key too.
          {
            'Fn::If': [
              'HasKmsKey',
              {
                PolicyName: 'dead-letters-key',
                PolicyDocument: policy(allow(['kms:GenerateDataKey', 'kms:Decrypt'], { Ref: 'KmsKeyArn' })),
              },
              { Ref: 'AWS::NoValue' },
            ],
          },
        ],
      },
    });
  }
};

/** A failed batch is retried this many times (halved each time), then its description goes to the on-failure queue. */
export const STREAM_RETRY_ATTEMPTS = 10;
/** How far behind a shard may fall (the age of the last record the function got) before an alarm fires. */
export const STREAM_ITERATOR_AGE_ALARM_MS = 5 * 60_000;
export const STARTING_POSITIONS = ['LATEST', 'TRIM_HORIZON'] as const;

/** `arn:aws:kinesis:<region>:<account>:stream/<name>` */
const KINESIS_STREAM_ARN =
  /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/(?<name>[A-Za-z0-9_.-]{1,128})$/;
/** `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>` */
const DYNAMODB_STREAM_ARN =
  /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/(?<name>[A-Za-z0-9_.-]{3,255})\/stream\/[^/]+$/;

/**
 * What an event source mapping reads a stream with, through the function's role, for these streams only.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#events-kinesis-permissions
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html#events-dynamodb-permissions
 */
export const KINESIS_READ = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  'kinesis:ListStreams',
] as const;
export const DYNAMODB_READ = [
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
] as const;

/** The ARNs given in a parameter, by the name each ARN holds; an ARN that is none is a problem. */
const arnsByName = (arns: readonly string[], pattern: RegExp, parameter: string, problems: string[]) => {
  const byName = new Map<string, string>();
  for (const arn of arns) {
    const name = pattern.exec(arn)?.groups?.name;
    if (name === undefined) problems.push(`${parameter}: "${arn}" is not the ARN of a stream`);
    else byName.set(name, arn);
  }
  return byName;
};

/** The ARN of a Kinesis stream of this stack's account and region, built without `${}` (serverless's syntax). */
export const localKinesisArn = (name: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':kinesis:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:stream/${name}`,
    ],
  ],
});

/** The stream a mapping reads, and the records it passes on. */
interface StreamSource {
  readonly owner: string;
  readonly id: string;
  readonly arn: unknown;
  /** DynamoDB: the event names every route of the table takes, when each route names some. */
  readonly eventNames?: readonly string[];
}

const NO_STREAMS: StreamSettings = {
  kinesisStreamArns: [],
  dynamodbStreamArns: [],
  startingPosition: 'LATEST',
};

const streamSources = (file: RoutesFile, streams: StreamSettings, stack: Stack): StreamSource[] => {
  const { problems } = stack;
  const kinesisArns = arnsByName(
    streams.kinesisStreamArns,
    KINESIS_STREAM_ARN,
    'kinesisStreamArns',
    problems,
  );
  const tableArns = arnsByName(
    streams.dynamodbStreamArns,
    DYNAMODB_STREAM_ARN,
    'dynamodbStreamArns',
    problems,
  );
  const kinesis = [...new Set(routesOf(file, 'kinesis').map(({ trigger }) => trigger.stream))].map(
    (name) => ({
      owner: `Kinesis stream "${name}"`,
      id: `${pascal(name)}KinesisStream`,
      arn: kinesisArns.get(name) ?? localKinesisArn(name),
    }),
  );
  const tables = new Map<string, Set<string> | undefined>();
  for (const { trigger } of routesOf(file, 'dynamodb')) {
    const names = tables.has(trigger.table) ? tables.get(trigger.table) : new Set<string>();
    // A route without eventName takes every change: no filter for its table.
    const taken = trigger.eventName === undefined ? undefined : [trigger.eventName].flat();
    tables.set(
      trigger.table,
      names === undefined || taken === undefined ? undefined : new Set([...names, ...taken]),
    );
  }
  const dynamodb = [...tables].map(([table, eventNames]) => {
    const owner = `DynamoDB table "${table}"`;
    const arn = tableArns.get(table);
    if (arn === undefined) {
      problems.push(
        `${owner}: its stream ARN is not in the dynamodbStreamArns parameter (it ends in a label DynamoDB ` +
          `chose, so it cannot be derived): --param="dynamodbStreamArns=arn:aws:dynamodb:<region>:<account>:table/${table}/stream/<label>"`,
      );
    }
    return {
      owner,
      id: `${pascal(table)}DynamoDbStream`,
      arn,
      ...(eventNames !== undefined && { eventNames: [...eventNames].sort() }),
    };
  });
  return [...kinesis, ...dynamodb];
};

/**
 * The streams function and what it needs, when routes name Kinesis streams or DynamoDB tables: its
 * role, one event source mapping per stream, and the queue a batch's description goes to when its
 * retries are spent. Nothing at all without such routes: `null` leaves the function out of the stack.
 */
const streamsFunction = (file: RoutesFile, settings: DeploymentSettings, stack: Stack) => {
  const streams = settings.streams ?? NO_STREAMS;
  const sources = streamSources(file, streams, stack);
  if (sources.length === 0) return null;
  const { startingPosition } = streams;
  if (!(STARTING_POSITIONS as readonly string[]).includes(startingPosition)) {
    stack.problems.push(`streamsStartingPosition: "${startingPosition}" is not LATEST or TRIM_HORIZON`);
  }
  const deadLetters = stack.add('the streams function', STREAMS_DEAD_LETTER_QUEUE, {
    Type: 'AWS::SQS::Queue',
    Properties: { MessageRetentionPeriod: 1209600, ...QUEUE_ENCRYPTION },
  });
  deadLetterAlarm(
    stack,
    'the streams function',
    deadLetters,
    `Batches of stream records the streams function failed ${STREAM_RETRY_ATTEMPTS} times are described in its dead-letter queue: read the records from the stream before they expire.`,
    settings,
  );
  stack.Outputs[`${deadLetters}Url`] = { Value: { Ref: deadLetters } };
  const ofFunction = [{ Name: 'FunctionName', Value: { Ref: STREAMS_FUNCTION } }];
  addAlarm(
    stack,
    'the streams function',
    'StreamsErrorsAlarm',
    {
      AlarmDescription:
        'The streams function failed as a whole (an error or a timeout); Lambda retries its batch, halved.',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: ofFunction,
      Statistic: 'Sum',
    },
    settings,
  );
  addAlarm(
    stack,
    'the streams function',
    'StreamsIteratorAgeAlarm',
    {
      AlarmDescription: `A shard's oldest record waited more than ${STREAM_ITERATOR_AGE_ALARM_MS / 60_000} minutes: a failing record holds its shard through its retries, or the function cannot keep up.`,
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: ofFunction,
      Statistic: 'Maximum',
      Threshold: STREAM_ITERATOR_AGE_ALARM_MS,
    },
    settings,
  );
  const arnsOf = (prefix: string) => sources.filter(({ id }) => id.endsWith(prefix)).map(({ arn }) => arn);
  const kinesisArns = arnsOf('KinesisStream');
  const tableArns = arnsOf('DynamoDbStream');
  // What the mappings read with, and where Lambda sends a batch it gave up on: the function's role.
  stack.add('the streams function', STREAMS_FUNCTION_ROLE, {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: policy({
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
      }),
      ManagedPolicyArns: [
        { 'Fn::If': ['HasTemporalSecret', { Ref: 'TemporalSecretReadPolicy' }, { Ref: 'AWS::NoValue' }] },
        { 'Fn::If': ['HasVpc', { Ref: 'VpcNetworkInterfacesPolicy' }, { Ref: 'AWS::NoValue' }] },
        { 'Fn::If': ['HasKmsKey', { Ref: 'KmsKeyUsePolicy' }, { Ref: 'AWS::NoValue' }] },
      ],
      Policies: [
        {
          PolicyName: 'logs-streams-and-dead-letters',
          PolicyDocument: policy(
            allow(['logs:CreateLogStream', 'logs:PutLogEvents'], getAtt('StreamsLogGroup', 'Arn')),
            ...(kinesisArns.length > 0 ? [allow([...KINESIS_READ], kinesisArns)] : []),
            ...(tableArns.length > 0 ? [allow([...DYNAMODB_READ], tableArns)] : []),
            allow('sqs:SendMessage', getAtt(deadLetters, 'Arn')),
          ),
        },
        // Sending to that queue when the customer managed key encrypts it.
        {
          'Fn::If': [
            'HasKmsKey',
            {
              PolicyName: 'dead-letters-key',
              PolicyDocument: policy(allow('kms:GenerateDataKey', { Ref: 'KmsKeyArn' })),
            },
            { Ref: 'AWS::NoValue' },
          ],
        },
      ],
    },
  });
  for (const { owner, id, arn, eventNames } of sources) {
    stack.add(owner, `${id}EventSourceMapping`, {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: arn,
        FunctionName: getAtt(STREAMS_FUNCTION, 'Arn'),
        StartingPosition: startingPosition,
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: BATCHING_WINDOW_SECONDS,
        // The function reports the failed record and every later one of its shard by sequence number;
        // Lambda retries from the first, halving the batch on a function error, up to the limit, then
        // sends the batch's description (shard, sequence numbers) to the queue and goes on.
        // https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: STREAM_RETRY_ATTEMPTS,
        DestinationConfig: { OnFailure: { Destination: getAtt(deadLetters, 'Arn') } },
        // Changes no route takes never invoke the function. https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html
        ...(eventNames !== undefined && {
          FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: eventNames }) }] },
        }),
      },
    });
  }
  // Its network and key, as every function's (infra/resources/network.yml).
  stack.extensions[STREAMS_FUNCTION] = {
    Metadata: { 'cfn-lint': { config: { ignore_checks: ['W1033'] } } },
    Properties: {
      VpcConfig: {
        'Fn::If': [
          'HasVpc',
          {
            SubnetIds: { 'Fn::Split': [',', { Ref: 'VpcSubnetIds' }] },
            SecurityGroupIds: { 'Fn::Split': [',', { Ref: 'VpcSecurityGroupIds' }] },
          },
          { Ref: 'AWS::NoValue' },
        ],
      },
      KmsKeyArn: { 'Fn::If': ['HasKmsKey', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }] },
    },
  };
  stack.extensions.StreamsLogGroup = {
    Properties: { KmsKeyId: { 'Fn::If': ['HasKmsKey', { Ref: 'KmsKeyArn' }, { Ref: 'AWS::NoValue' }] } },
  };
  return {
    handler: 'index.handler',
    // A batch of up to 100 records started one at a time; records past the deadline are reported.
    timeout: 30,
    package: { artifact: 'dist/streams.zip' },
    role: STREAMS_FUNCTION_ROLE,
  };
};

/** corsAllowOrigins, checked with the rule the function applies to CORS_ALLOW_ORIGINS at cold start. */
const checkOrigins = (value: string): void => {
  if (value === '') return;
  try {
    checkCorsOrigins(value.split(','), 'corsAllowOrigins');
  } catch (error) {
    throw new DeploymentError(error instanceof Error ? error.message : String(error));
  }
};

/** SNS topic names: a FIFO topic (`.fifo`) cannot deliver to a Lambda function. */
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
/** S3 bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const NOTIFICATIONS_DEAD_LETTER_QUEUE = 'NotificationsDeadLetterQueue';

/** An ARN of this stack's partition, region and account: `arn:<partition>:<service>:<region>:<account>:<resource>`. */
const arnHere = (service: string, resource: string, regional = true) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      `:${service}:`,
      ...(regional ? [{ Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }] : [':']),
      `:${resource}`,
    ],
  ],
});

/**
 * SNS topics and S3 buckets the routes name, delivering to the eventbridge function, which takes every
 * asynchronous source. For each topic (of this account and region), a subscription of the function,
 * with a dead-letter queue for what SNS cannot deliver, and the permission to invoke it; for each
 * bucket, the permission S3 needs to invoke the function. A bucket's notification configuration is the
 * bucket's own: CloudFormation sets one only on a bucket it creates, so it is set where the bucket is
 * (docs/deploy.md), with the function's ARN this outputs.
 */
const notifications = (file: RoutesFile, settings: DeploymentSettings, stack: Stack): void => {
  const topics = distinct(
    routesOf(file, 'sns').map(
      ({ route, trigger: { topic } }) => [topic, topic, `route "${route.name}"`] as const,
    ),
    'topic',
    stack.problems,
  );
  const topicArns = topics.map((topic) => arnHere('sns', topic));
  if (topics.length > 0) {
    stack.add('the SNS subscriptions', NOTIFICATIONS_DEAD_LETTER_QUEUE, {
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 1209600, ...QUEUE_ENCRYPTION },
    });
    deadLetterAlarm(
      stack,
      'the SNS subscriptions',
      NOTIFICATIONS_DEAD_LETTER_QUEUE,
      'Messages SNS could not deliver to the eventbridge function are waiting in the dead-letter queue of its subscriptions.',
      settings,
    );
    // SNS delivers to a subscription's dead-letter queue with its own service principal; only these
    // topics may. https://docs.aws.amazon.com/sns/latest/dg/sns-configure-dead-letter-queue.html
    stack.add('the SNS subscriptions', `${NOTIFICATIONS_DEAD_LETTER_QUEUE}Policy`, {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: NOTIFICATIONS_DEAD_LETTER_QUEUE }],
        PolicyDocument: policy({
          ...allow('sqs:SendMessage', getAtt(NOTIFICATIONS_DEAD_LETTER_QUEUE, 'Arn')),
          Principal: { Service: 'sns.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': topicArns } },
        }),
      },
    });
    stack.Outputs[`${NOTIFICATIONS_DEAD_LETTER_QUEUE}Url`] = {
      Value: { Ref: NOTIFICATIONS_DEAD_LETTER_QUEUE },
    };
  }
  topics.forEach((topic, index) => {
    const owner = `topic "${topic}"`;
    if (!TOPIC_NAME.test(topic)) {
      stack.problems.push(
        `${owner}: an SNS topic name holds letters, digits, "-" and "_" (a FIFO topic cannot deliver to a function)`,
      );
    }
    const id = `${pascal(topic)}Topic`;
    const TopicArn = topicArns[index];
    stack.add(owner, `${id}Subscription`, {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn,
        Protocol: 'lambda',
        Endpoint: getAtt(EVENTBRIDGE_FUNCTION, 'Arn'),
        RedrivePolicy: { deadLetterTargetArn: getAtt(NOTIFICATIONS_DEAD_LETTER_QUEUE, 'Arn') },
      },
    });
    stack.add(owner, `${id}Permission`, {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(EVENTBRIDGE_FUNCTION, 'Arn'),
        Principal: 'sns.amazonaws.com',
        SourceArn: TopicArn,
      },
    });
  });

  const buckets = distinct(
    routesOf(file, 's3').map(
      ({ route, trigger: { bucket } }) => [bucket, bucket, `route "${route.name}"`] as const,
    ),
    'bucket',
    stack.problems,
  );
  for (const bucket of buckets) {
    const owner = `bucket "${bucket}"`;
    if (!BUCKET_NAME.test(bucket)) {
      stack.problems.push(
        `${owner}: an S3 bucket name holds 3 to 63 lower-case letters, digits, "." and "-"`,
      );
    }
    // The account condition keeps another account's bucket of the same name from invoking the function.
    stack.add(owner, `${pascal(bucket)}BucketPermission`, {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(EVENTBRIDGE_FUNCTION, 'Arn'),
        Principal: 's3.amazonaws.com',
        SourceArn: arnHere('s3', bucket, false),
        SourceAccount: { Ref: 'AWS::AccountId' },
      },
    });
  }
  if (buckets.length > 0) {
    stack.Outputs.NotificationsFunctionArn = { Value: getAtt(EVENTBRIDGE_FUNCTION, 'Arn') };
  }
};

/**
 * The stack's CloudWatch dashboard: what the functions did (lib/metrics.ts: actions by outcome,
 * failures, start latency p50 and p99, batches, cut-offs, cold starts) beside what AWS measures (every
 * dead-letter queue's depth, throttles). Every queue the routes name is on it, so it is derived here.
 * The body is JSON with the stack's names in it: Fn::Join puts them in, Fn::Sub's `${}` would clash
 * with serverless's variables.
 */
const dashboard = ({ metrics: { namespace, service } }: DeploymentSettings, stack: Stack): void => {
  const names: unknown[] = [];
  /** A placeholder the body's JSON carries, where Fn::Join puts `value`. */
  const put = (value: unknown): string => `\u0000${names.push(value) - 1}\u0000`;
  const region = put({ Ref: 'AWS::Region' });
  const functions = [HTTP_FUNCTION, SQS_FUNCTION, EVENTBRIDGE_FUNCTION]
    .concat(STREAMS_FUNCTION_ROLE in stack.Resources ? [STREAMS_FUNCTION] : [])
    .map((id) => put({ Ref: id }));
  const deadLetterQueues = Object.keys(stack.Resources)
    .filter((id) => id.endsWith('DeadLetterQueue'))
    .concat(EVENTS_DEAD_LETTER_QUEUE)
    .map((id) => put(getAtt(id, 'QueueName')));
  const ours = (metric: string, ...dimensions: string[]) => [
    namespace,
    metric,
    'service',
    service,
    ...dimensions,
  ];
  // Without x and y, CloudWatch lays the widgets out in order, two to a row at width 12.
  const widget = (title: string, metricList: unknown[], stat: string, width = 12) => ({
    type: 'metric',
    width,
    height: 6,
    properties: { title, region, stat, period: 300, view: 'timeSeries', stacked: false, metrics: metricList },
  });
  const body = {
    widgets: [
      widget(
        'Workflow actions by outcome',
        ['started', 'existing', 'signalled', 'updated'].map((outcome) => ours('Actions', 'outcome', outcome)),
        'Sum',
      ),
      widget(
        'Failures (transient: retried or 5xx; permanent: bad input)',
        ['false', 'true'].map((permanent) => ours('Failures', 'permanent', permanent)),
        'Sum',
      ),
      widget(
        'Start latency (ms)',
        [
          [...ours('StartLatency'), { stat: 'p50', label: 'p50' }],
          [...ours('StartLatency'), { stat: 'p99', label: 'p99' }],
        ],
        'p50',
      ),
      widget(
        'Dead-letter queues: messages waiting',
        deadLetterQueues.map((queue) => [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          queue,
        ]),
        'Maximum',
      ),
      widget(
        'Throttles',
        functions.map((name) => ['AWS/Lambda', 'Throttles', 'FunctionName', name]),
        'Sum',
      ),
      widget(
        'Cold starts',
        functions.map((name) => [namespace, 'ColdStart', 'service', service, 'function_name', name]),
        'Sum',
      ),
      widget(
        'SQS and stream batches, deadline cut-offs, connections',
        [
          'BatchSize',
          'BatchItemFailures',
          'DeadlineCutoffs',
          'ConnectionReplacements',
          'CredentialRefreshes',
        ].map((metric) => ours(metric)),
        'Sum',
        24,
      ),
    ],
  };
  // Each placeholder is a JSON string's content, so what Fn::Join puts there stays inside its quotes.
  const parts = JSON.stringify(body).split(/\\u0000(\d+)\\u0000/);
  const joined = parts.map((part, index) => (index % 2 === 0 ? part : names[Number(part)]));
  stack.add('the dashboard', DASHBOARD, {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: { DashboardBody: { 'Fn::Join': ['', joined.filter((part) => part !== '')] } },
  });
};

/** Derives the deployment from a routes file; throws a DeploymentError listing every problem. */
export const derive = (file: RoutesFile, settings: DeploymentSettings): Derived => {
  checkOrigins(settings.corsAllowOrigins);
  const stack = new Stack();
  const http = httpEvents(file, settings, stack);
  const sqs = sqsEvents(file, settings, stack);
  rules(file, settings, stack);
  schedulerSchedules(file, stack);
  notifications(file, settings, stack);
  const streams = streamsFunction(file, settings, stack);
  dashboard(settings, stack);
  if (stack.problems.length > 0) {
    const problems = stack.problems.map((problem) => `✖ ${problem}`).join('\n');
    throw new DeploymentError(`The routes file (dist/routes.json) cannot be deployed:\n${problems}`);
  }
  return {
    httpEvents: http,
    sqsEvents: sqs,
    streamsFunction: streams,
    cors: {
      AllowOrigins: { 'Fn::Split': [',', { Ref: 'CorsAllowOrigins' }] },
      AllowMethods: [...CORS.allowMethods],
      AllowHeaders: [...CORS.allowHeaders],
      ExposeHeaders: [...CORS.exposeHeaders],
      MaxAge: CORS.maxAgeSeconds,
    },
    resources: { Resources: stack.Resources, Outputs: stack.Outputs, extensions: stack.extensions },
  };
};

/** The routes the build bundled; a clear error when there is no build. */
export const readDerivedRoutes = (path = DERIVED_ROUTES_FILE): RoutesFile => {
  const shown = relative(process.cwd(), path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new DeploymentError(
      `${shown} is missing: run \`npm run build\` first (or \`npm run build -- --routes <file>\`). ` +
        'The deployment is derived from the routes file the build bundled into the functions.',
    );
  }
  try {
    return { routes: [], ...(JSON.parse(text) as Partial<RoutesFile>) } as RoutesFile;
  } catch (error) {
    throw new DeploymentError(`${shown} is not JSON (${String(error)}): run \`npm run build\` again`);
  }
};

const ALARM_BANNER = [
  '',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '!!  WARNING: the alarms of this stack notify nobody.',
  '!!  Neither alarmEmail nor alarmTopicArn is set, so messages in a dead-letter queue,',
  '!!  failing or throttled functions and 5xx answers change an alarm state in',
  '!!  CloudWatch and tell no one. Set --param="alarmEmail=ops@example.com" or',
  '!!  --param="alarmTopicArn=arn:aws:sns:<region>:<account>:<topic>" (docs/deploy.md#alarms).',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '',
].join('\n');

/** An "on" or "off" parameter. */
const onOff = (value: string, name: string): boolean => {
  if (value !== 'on' && value !== 'off')
    throw new DeploymentError(`${name} must be "on" or "off", got "${value}"`);
  return value === 'on';
};

/** What osls's `file` source hands a function it calls. */
interface VariableSourceContext {
  readonly resolveVariable: (variable: string) => Promise<unknown>;
  readonly resolveConfigurationProperty: (path: string[]) => Promise<unknown>;
}

/**
 * `${file(infra/derive.cjs):derived}`: reads dist/routes.json and the settings it needs from the
 * configuration, derives the deployment, and warns on stderr when the alarms would notify nobody.
 */
export const derived = async ({ resolveVariable, resolveConfigurationProperty }: VariableSourceContext) => {
  const text = async (variable: string) => String((await resolveVariable(variable)) ?? '');
  const positive = async (value: Promise<unknown>, what: string) => {
    const number = Number(await value);
    if (!(number > 0)) throw new DeploymentError(`${what} must be a positive number of seconds`);
    return number;
  };
  const list = (value: string) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const file = readDerivedRoutes();
  const result = derive(file, {
    eventBusName: await text('param:eventBusName'),
    authorizer: await resolveVariable('self:custom.httpAuthorizer'),
    corsAllowOrigins: await text('param:corsAllowOrigins'),
    openapi: onOff(await text('param:httpOpenapi'), 'httpOpenapi'),
    sqsTimeoutSeconds: await positive(
      resolveConfigurationProperty(['functions', 'sqs', 'timeout']),
      'functions.sqs.timeout',
    ),
    alarmActions: await resolveVariable('self:custom.alarmActions'),
    metrics: {
      namespace: await text('param:metricsNamespace'),
      service: await text('self:custom.metricsService'),
    },
    streams: {
      kinesisStreamArns: list(await text('param:kinesisStreamArns')),
      dynamodbStreamArns: list(await text('param:dynamodbStreamArns')),
      startingPosition: await text('param:streamsStartingPosition'),
    },
  });
  // A function in a VPC needs both; one without the other would be a stack that fails, or no VPC at all.
  if (((await text('param:vpcSubnetIds')) === '') !== ((await text('param:vpcSecurityGroupIds')) === '')) {
    throw new DeploymentError('vpcSubnetIds and vpcSecurityGroupIds go together: set both, or neither');
  }
  if ((await text('param:alarmEmail')) === '' && (await text('param:alarmTopicArn')) === '') {
    process.stderr.write(`${ALARM_BANNER}\n`);
  }
  return result;
};
