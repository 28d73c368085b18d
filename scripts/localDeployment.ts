import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type Tags } from 'yaml';
import { type DeploymentSettings, derive, readDerivedRoutes } from '../infra/derive.ts';

/**
 * What the local stack emulates, taken from where the deployment takes it: the queues, event source
 * mappings, rules and schedules that infra/derive.ts derives from the built routes file
 * (dist/routes.json), and the functions' settings in serverless.yml. Nothing here is typed twice.
 */

export interface LocalQueue {
  readonly name: string;
  readonly fifo: boolean;
  readonly visibilityTimeoutSeconds: number;
  /** The dead-letter queue and after how many receives a message moves there. */
  readonly redrive?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
  /** Set when the sqs function polls it: its event source mapping. */
  readonly mapping?: { readonly batchSize: number; readonly batchingWindowSeconds: number };
  /** The message attributes the queue's first route asks for: what a message must carry to match it. */
  readonly routeAttributes?: Readonly<Record<string, string>>;
}

/** An EventBridge rule of the routes file: an event pattern, or a schedule. */
export interface LocalRule {
  readonly name: string;
  readonly pattern?: Readonly<Record<string, unknown>>;
  readonly schedule?: string;
}

/** An EventBridge Scheduler schedule of the routes file. */
export interface LocalSchedule {
  readonly group: string;
  readonly name: string;
  readonly expression: string;
}

export interface LocalDeployment {
  readonly queues: readonly LocalQueue[];
  /** The eventbridge function's on-failure destination (EventsDeadLetterQueue). */
  readonly eventsDeadLetterQueue: string;
  readonly rules: readonly LocalRule[];
  readonly schedules: readonly LocalSchedule[];
  /** The sqs function's timeout: an invocation's deadline. */
  readonly sqsTimeoutSeconds: number;
  /** The eventbridge function's timeout and its asynchronous invocation's retries. */
  readonly eventbridgeTimeoutSeconds: number;
  readonly eventbridgeRetries: number;
}

/** The local name of the stack's EventsDeadLetterQueue, whose deployed name CloudFormation makes up. */
export const EVENTS_DEAD_LETTER_QUEUE_NAME = 'events-dlq';

// CloudFormation's short forms (!Ref, !If, ...) read as plain values: only literal settings matter here.
const CFN_TAGS: Tags = [
  'Ref',
  'If',
  'GetAtt',
  'Sub',
  'Equals',
  'Not',
  'And',
  'Or',
  'Split',
  'Join',
  'Condition',
].flatMap((name) =>
  (['scalar', 'seq'] as const).map((nodeClass) => ({
    tag: `!${name}`,
    collection: nodeClass === 'seq' ? ('seq' as const) : undefined,
    resolve: (value: unknown) => value,
  })),
) as Tags;

interface ServerlessYml {
  provider?: { timeout?: number };
  functions?: Record<string, { timeout?: number; maximumRetryAttempts?: number }>;
}

const readServerlessYml = (root: string): ServerlessYml =>
  parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), {
    customTags: CFN_TAGS,
    logLevel: 'error',
  }) as ServerlessYml;

type Resource = { Type: string; Properties: Record<string, unknown> };

/** The logical ID a `{ 'Fn::GetAtt': [id, 'Arn'] }` names. */
const idOf = (value: unknown): string => (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

const ROOT = join(import.meta.dirname, '..');

/**
 * The local stack of a routes file (by default the one the build bundled, dist/routes.json), with
 * serverless.yml's settings.
 */
export const localDeployment = (
  routesFile = join(ROOT, 'dist', 'routes.json'),
  root = ROOT,
): LocalDeployment => {
  const yml = readServerlessYml(root);
  const timeout = (name: string) => yml.functions?.[name]?.timeout ?? yml.provider?.timeout ?? 6;
  const settings: DeploymentSettings = {
    eventBusName: 'local',
    authorizer: {},
    corsAllowOrigins: '',
    sqsTimeoutSeconds: timeout('sqs'),
    alarmActions: [],
    metrics: { namespace: 'local', service: 'local' },
  };
  const file = readDerivedRoutes(routesFile);
  // Streams have no local stand-in (npm run invoke sends their batches): derived without their routes,
  // whose DynamoDB stream ARNs only a deployment is given.
  const derived = derive(
    { ...file, routes: file.routes.filter((route) => !route.kinesis && !route.dynamodb) },
    settings,
  );
  const routeAttributes = (queue: string) =>
    file.routes.find((route) => route.sqs?.queue === queue)?.sqs?.attributes;
  const resources = Object.entries(derived.resources.Resources) as [string, Resource][];
  const queueNames = new Map(
    resources
      .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
      .map(([id, resource]) => [id, String(resource.Properties.QueueName)]),
  );
  const mappings = new Map(
    derived.sqsEvents.map(({ sqs }) => [
      queueNames.get(idOf(sqs.arn)),
      {
        batchSize: Number(sqs.batchSize),
        batchingWindowSeconds: Number(sqs.maximumBatchingWindow ?? 0),
      },
    ]),
  );
  const queues = resources
    .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
    .map(([, { Properties: queue }]): LocalQueue => {
      const name = String(queue.QueueName);
      const redrive = queue.RedrivePolicy as
        | { deadLetterTargetArn: unknown; maxReceiveCount: number }
        | undefined;
      const mapping = mappings.get(name);
      const attributes = routeAttributes(name);
      return {
        name,
        fifo: queue.FifoQueue === true,
        visibilityTimeoutSeconds: Number(queue.VisibilityTimeout ?? 30),
        ...(redrive && {
          redrive: {
            deadLetterQueue: queueNames.get(idOf(redrive.deadLetterTargetArn)) ?? '',
            maxReceiveCount: redrive.maxReceiveCount,
          },
        }),
        ...(mapping && { mapping }),
        ...(attributes && { routeAttributes: attributes }),
      };
    });
  const rules = resources
    .filter(([, resource]) => resource.Type === 'AWS::Events::Rule')
    .map(([, { Properties: rule }]) => ({
      name: String(rule.Name),
      ...(rule.EventPattern !== undefined && { pattern: rule.EventPattern as Record<string, unknown> }),
      ...(rule.ScheduleExpression !== undefined && { schedule: String(rule.ScheduleExpression) }),
    }));
  const groupOf = (value: unknown): string => {
    const id = (value as { Ref?: string } | undefined)?.Ref;
    const group = id === undefined ? undefined : derived.resources.Resources[id]?.Properties.Name;
    return typeof group === 'string' ? group : 'default';
  };
  const schedules = resources
    .filter(([, resource]) => resource.Type === 'AWS::Scheduler::Schedule')
    .map(([, { Properties: schedule }]) => ({
      group: groupOf(schedule.GroupName),
      name: String(schedule.Name),
      expression: String(schedule.ScheduleExpression),
    }));
  return {
    queues,
    eventsDeadLetterQueue: EVENTS_DEAD_LETTER_QUEUE_NAME,
    rules,
    schedules,
    sqsTimeoutSeconds: timeout('sqs'),
    eventbridgeTimeoutSeconds: timeout('eventbridge'),
    eventbridgeRetries: yml.functions?.eventbridge?.maximumRetryAttempts ?? 2,
  };
};
