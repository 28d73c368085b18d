import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { lintTemplates } from '../../infra/cfnLint.ts';
import {
  type CloudFormationTemplate,
  EXAMPLE_PARAMS,
  packageService,
  stageService,
} from '../../infra/package.ts';
import type { RoutesFile } from '../../lib/routes/schema.ts';
import {
  actionsOf,
  conditionHolds,
  effective,
  getAtt,
  propertiesOf,
  resourcesOfType,
  type Statement,
  statementsOf,
} from '../helpers/cloudformation.ts';

/**
 * serverless.yml and infra/resources/, packaged offline by the real osls CLI into CloudFormation (no AWS
 * access), read back and linted by cfn-lint. `npm test` builds the zips the packaging needs first.
 */

const FUNCTIONS = {
  http: 'HttpLambdaFunction',
  sqs: 'SqsLambdaFunction',
  eventbridge: 'EventbridgeLambdaFunction',
};
const ROLES = { http: 'HttpFunctionRole', sqs: 'SqsFunctionRole', eventbridge: 'EventbridgeFunctionRole' };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:temporal-prod-AbCdEf';
const KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops';
const WEBHOOK_ARNS = [
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks/github-Ab12Cd',
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks/stripe-Ef34Gh',
] as const;

const VARIANTS = {
  // What `npm run package` checks, plus a customer key and an alarm email.
  example: {
    ...EXAMPLE_PARAMS,
    temporalSecretArn: SECRET_ARN,
    temporalSecretKmsKeyArn: KMS_KEY_ARN,
    alarmEmail: 'ops@example.com',
  },
  // Only the one required parameter: every optional part off.
  minimal: { temporalAddress: 'temporal.internal:7233' },
  // The other choices: a FIFO queue, a JWT authorizer, an existing alarm topic, a secret with the AWS managed key.
  fifoJwt: {
    temporalAddress: 'temporal.internal:7233',
    temporalSecretArn: SECRET_ARN,
    queueType: 'fifo',
    httpAuth: 'jwt',
    jwtIssuerUrl: 'https://issuer.example.com/',
    jwtAudience: 'temporal-triggers',
    alarmTopicArn: TOPIC_ARN,
    corsAllowOrigins: 'https://app.example.com',
    temporalTaskQueue: 'default-queue',
    webhookSecretArns: `${WEBHOOK_ARNS[0]},${WEBHOOK_ARNS[1]}`,
  },
  // A mistake cfn-lint must catch: the secret's name where its ARN belongs.
  secretName: { temporalAddress: 'temporal.internal:7233', temporalSecretArn: 'temporal-prod' },
} as const;
type Variant = keyof typeof VARIANTS;

const routesFile = JSON.parse(
  readFileSync(new URL('../../routes.json', import.meta.url), 'utf8'),
) as RoutesFile;
const routesOf = <K extends 'http' | 'sqs' | 'eventbridge' | 'schedule'>(kind: K) =>
  routesFile.routes.flatMap((route) =>
    route[kind] === undefined ? [] : [route[kind] as NonNullable<(typeof route)[K]>],
  );

const only = <T>(items: T[], what: string): T => {
  assert.equal(items.length, 1, `expected exactly one ${what}, found ${items.length}`);
  return items[0] as T;
};

/** Every policy statement of the template, with the logical ID of the resource that holds it. */
const allStatements = (template: CloudFormationTemplate): [string, Statement][] =>
  Object.entries(template.Resources).flatMap(([id, resource]) =>
    statementsOf(resource).map((statement) => [id, statement] as [string, Statement]),
  );

const environmentOf = (template: CloudFormationTemplate, fn: string) =>
  (propertiesOf(template, fn).Environment as { Variables: Record<string, unknown> }).Variables;

describe('serverless package', () => {
  let dir: string;
  const raw = {} as Record<Variant, CloudFormationTemplate>;
  const deployed = {} as Record<Variant, CloudFormationTemplate>;
  const files = {} as Record<Variant, string>;
  let state: {
    service: { functions: Record<string, { package?: { artifact?: string } }>; plugins?: unknown };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deployment-'));
    await Promise.all(
      Object.entries(VARIANTS).map(async ([variant, params]) => {
        const serviceDir = await stageService(join(dir, variant));
        const packaged = await packageService({ serviceDir, params });
        raw[variant as Variant] = packaged.template;
        deployed[variant as Variant] = effective(packaged.template);
        files[variant as Variant] = packaged.templateFile;
      }),
    );
    state = JSON.parse(await readFile(join(dir, 'example', '.serverless', 'serverless-state.json'), 'utf8'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('functions', () => {
    it('are the three handlers, on nodejs24.x for arm64, each from its own zip of the build', async () => {
      const template = deployed.example;
      const functions = resourcesOfType(template, 'AWS::Lambda::Function');
      assert.deepEqual(functions.map(([id]) => id).sort(), Object.values(FUNCTIONS).sort());
      for (const [name, id] of Object.entries(FUNCTIONS)) {
        const properties = propertiesOf(template, id);
        assert.equal(properties.Runtime, 'nodejs24.x');
        assert.deepEqual(properties.Architectures, ['arm64']);
        assert.equal(properties.Handler, 'index.handler');
        assert.match((properties.Code as { S3Key: string }).S3Key, new RegExp(`/${name}\\.zip$`));
        assert.equal(state.service.functions[name]?.package?.artifact, `dist/${name}.zip`);

        // index.mjs and the chunks it loads lazily, as built; no source maps or build reports.
        const zip = unzipSync(await readFile(`dist/${name}.zip`));
        const chunks = (await readdir(`dist/${name}/chunks`)).filter((file) => file.endsWith('.mjs'));
        assert.deepEqual(
          Object.keys(zip).sort(),
          ['index.mjs', ...chunks.map((file) => `chunks/${file}`)].sort(),
        );
        for (const [path, bytes] of Object.entries(zip)) {
          assert.deepEqual(bytes, new Uint8Array(await readFile(`dist/${name}/${path}`)), path);
        }
      }
      assert.equal(state.service.plugins, undefined, 'no plugin, bundling or otherwise');
    });

    it('have memory and timeouts for a start call, within what the HTTP API waits', () => {
      const template = deployed.example;
      for (const id of Object.values(FUNCTIONS)) {
        const { MemorySize, Timeout } = propertiesOf(template, id) as { MemorySize: number; Timeout: number };
        assert.ok(MemorySize >= 256 && MemorySize <= 1024, `${id} memory ${MemorySize}`);
        // Above TEMPORAL_CALL_TIMEOUT_MS's default (10 s), so a slow call ends in an answer, not a timeout.
        assert.ok(Timeout > 10 && Timeout <= 30, `${id} timeout ${Timeout}`);
      }
      assert.ok((propertiesOf(template, FUNCTIONS.http).Timeout as number) < 30, 'HTTP API gives up at 30 s');
    });

    it('keep their logs for a bounded time', () => {
      for (const name of Object.keys(FUNCTIONS)) {
        const logGroup = `${name[0]?.toUpperCase()}${name.slice(1)}LogGroup`;
        assert.equal(propertiesOf(deployed.example, logGroup).RetentionInDays, 30);
      }
    });

    it('read the Temporal settings from parameters, and never a secret', () => {
      const example = deployed.example;
      for (const id of Object.values(FUNCTIONS)) {
        const variables = environmentOf(example, id);
        assert.equal(variables.TEMPORAL_ADDRESS, EXAMPLE_PARAMS.temporalAddress);
        assert.equal(variables.TEMPORAL_NAMESPACE, EXAMPLE_PARAMS.temporalNamespace);
        assert.equal(variables.TEMPORAL_SECRET_ID, SECRET_ARN);
        assert.equal(variables.TEMPORAL_SECRET_TTL_SECONDS, '300');
        assert.equal(variables.POWERTOOLS_LOG_LEVEL, 'INFO');
        for (const name of Object.keys(variables)) {
          assert.doesNotMatch(name, /API_KEY|_KEY_DATA|_CERT_DATA|PASSWORD|TOKEN/, `${id} has ${name}`);
        }
      }
      assert.equal(environmentOf(example, FUNCTIONS.http).HTTP_MAX_BODY_BYTES, '1048576');
      assert.equal(environmentOf(example, FUNCTIONS.sqs).SQS_CONCURRENCY, '10');
      assert.equal(environmentOf(example, FUNCTIONS.sqs).HTTP_MAX_BODY_BYTES, undefined);

      // Optional settings are absent when not set, and present when set.
      const minimal = environmentOf(deployed.minimal, FUNCTIONS.http);
      for (const name of ['TEMPORAL_SECRET_ID', 'TEMPORAL_TASK_QUEUE', 'CORS_ALLOW_ORIGINS']) {
        assert.equal(name in minimal, false, `${name} is set without its parameter`);
      }
      const fifoJwt = environmentOf(deployed.fifoJwt, FUNCTIONS.http);
      assert.equal(fifoJwt.TEMPORAL_TASK_QUEUE, 'default-queue');
      assert.equal(fifoJwt.CORS_ALLOW_ORIGINS, 'https://app.example.com');
    });
  });

  describe('http', () => {
    const routeKeys = (template: CloudFormationTemplate) =>
      resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties ?? {});

    it('routes the workflow API and every HTTP route of routes.json to the http function', () => {
      const template = deployed.example;
      const expected = [
        'POST /workflows/{workflowType}',
        'GET /workflows/{workflowId}',
        ...routesOf('http').map(({ method, path }) => `${method} ${path}`),
      ];
      assert.deepEqual(
        routeKeys(template)
          .map((route) => route.RouteKey)
          .sort(),
        expected.sort(),
      );

      const integration = only(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'), 'integration')[1];
      assert.deepEqual(integration.Properties?.IntegrationUri, { 'Fn::GetAtt': [FUNCTIONS.http, 'Arn'] });
      assert.equal(integration.Properties?.PayloadFormatVersion, '2.0');
    });

    it('requires IAM (SigV4) on every route by default', () => {
      for (const route of routeKeys(deployed.example)) assert.equal(route.AuthorizationType, 'AWS_IAM');
      assert.equal(resourcesOfType(deployed.example, 'AWS::ApiGatewayV2::Authorizer').length, 0);
    });

    it('answers CORS preflights for the configured origins only when corsAllowOrigins is set', () => {
      assert.equal(propertiesOf(deployed.example, 'HttpApi').CorsConfiguration, undefined);
      const cors = propertiesOf(deployed.fifoJwt, 'HttpApi').CorsConfiguration as Record<string, unknown>;
      assert.deepEqual(cors.AllowOrigins, { 'Fn::Split': [',', 'https://app.example.com'] });
      assert.deepEqual(cors.AllowMethods, ['GET', 'POST']);
      for (const header of ['authorization', 'content-type', 'idempotency-key']) {
        assert.ok((cors.AllowHeaders as string[]).includes(header), header);
      }
    });

    it('requires a JWT from the issuer, for the audience, on every route with httpAuth=jwt', () => {
      const template = deployed.fifoJwt;
      const [id, authorizer] = only(resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer'), 'authorizer');
      assert.equal(authorizer.Properties?.AuthorizerType, 'JWT');
      assert.deepEqual(authorizer.Properties?.IdentitySource, ['$request.header.Authorization']);
      assert.deepEqual(authorizer.Properties?.JwtConfiguration, {
        Issuer: 'https://issuer.example.com/',
        Audience: ['temporal-triggers'],
      });
      for (const route of routeKeys(template)) {
        assert.equal(route.AuthorizationType, 'JWT');
        assert.deepEqual(route.AuthorizerId, { Ref: id });
      }
    });
  });

  describe('sqs', () => {
    const mapping = (template: CloudFormationTemplate) =>
      only(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'), 'event source mapping')[1]
        .Properties ?? {};
    const sqsTimeout = (template: CloudFormationTemplate) =>
      propertiesOf(template, FUNCTIONS.sqs).Timeout as number;

    it('reports batch item failures, with a batch size, a batching window and a concurrency cap', () => {
      const properties = mapping(deployed.example);
      assert.deepEqual(properties.EventSourceArn, getAtt('OrdersQueue', 'Arn'));
      assert.deepEqual(properties.FunctionName, getAtt(FUNCTIONS.sqs, 'Arn'));
      assert.deepEqual(properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
      assert.equal(properties.BatchSize, 10);
      assert.equal(properties.MaximumBatchingWindowInSeconds, 1);
      assert.equal((properties.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency, 5);
    });

    it('hides a received message for at least six times the function timeout plus the batching window', () => {
      const template = deployed.example;
      const window = mapping(template).MaximumBatchingWindowInSeconds as number;
      const visibility = propertiesOf(template, 'OrdersQueue').VisibilityTimeout as number;
      assert.ok(
        visibility >= 6 * sqsTimeout(template) + window,
        `${visibility} s for a ${sqsTimeout(template)} s function`,
      );
    });

    it('moves a message to the dead-letter queue after five receives', () => {
      const template = deployed.example;
      assert.deepEqual(propertiesOf(template, 'OrdersQueue').RedrivePolicy, {
        deadLetterTargetArn: getAtt('OrdersDeadLetterQueue', 'Arn'),
        maxReceiveCount: 5,
      });
      assert.equal(propertiesOf(template, 'OrdersDeadLetterQueue').MessageRetentionPeriod, 1209600);
    });

    it('is named as the sqs routes of routes.json expect', () => {
      const queues = routesOf('sqs').map(({ queue }) => queue);
      assert.ok(queues.includes(propertiesOf(deployed.example, 'OrdersQueue').QueueName as string));
    });

    it('has a FIFO variant: FIFO queue and dead-letter queue, no batching window, the same bounds', () => {
      const template = deployed.fifoJwt;
      const queue = propertiesOf(template, 'OrdersQueue');
      const deadLetters = propertiesOf(template, 'OrdersDeadLetterQueue');
      assert.equal(queue.FifoQueue, true);
      assert.equal(deadLetters.FifoQueue, true);
      assert.equal(queue.QueueName, 'orders.fifo');
      assert.match(deadLetters.QueueName as string, /\.fifo$/);
      assert.deepEqual(queue.RedrivePolicy, {
        deadLetterTargetArn: getAtt('OrdersDeadLetterQueue', 'Arn'),
        maxReceiveCount: 5,
      });
      assert.ok((queue.VisibilityTimeout as number) >= 6 * sqsTimeout(template));

      const properties = mapping(template);
      assert.deepEqual(properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
      assert.equal(
        properties.MaximumBatchingWindowInSeconds,
        undefined,
        'FIFO queues take no batching window',
      );
      assert.ok((properties.BatchSize as number) <= 10);
      assert.equal((properties.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency, 5);
    });
  });

  describe('eventbridge', () => {
    const rules = (template: CloudFormationTemplate) =>
      resourcesOfType(template, 'AWS::Events::Rule').map(([, rule]) => rule.Properties ?? {});

    it('matches the domain events of routes.json on a custom bus the stack creates', () => {
      const template = deployed.example;
      const [, bus] = only(resourcesOfType(template, 'AWS::Events::EventBus'), 'event bus');
      const rule = only(
        rules(template).filter((properties) => properties.EventPattern !== undefined),
        'event pattern rule',
      );
      assert.equal(rule.EventBusName, bus.Properties?.Name);
      const pattern = rule.EventPattern as { source: string[]; 'detail-type': string[] };
      for (const { source, detailType } of routesOf('eventbridge')) {
        assert.ok(
          pattern.source.includes(source) && pattern['detail-type'].includes(detailType),
          `${source} ${detailType}`,
        );
      }
    });

    it('runs the schedule of routes.json with a rule on the default bus', () => {
      const rule = only(
        rules(deployed.example).filter((properties) => properties.ScheduleExpression !== undefined),
        'schedule rule',
      );
      assert.equal(rule.EventBusName, undefined);
      assert.deepEqual(
        routesOf('schedule').map(({ rule }) => rule),
        [rule.Name],
      );
      assert.match(rule.ScheduleExpression as string, /^(cron|rate)\(.+\)$/);
    });

    it('delivers both rules to the function, retrying for a bounded time, else to the dead-letter queue', () => {
      const template = deployed.example;
      for (const rule of rules(template)) {
        const target = only(rule.Targets as Record<string, unknown>[], 'target');
        assert.deepEqual(target.Arn, getAtt(FUNCTIONS.eventbridge, 'Arn'));
        assert.deepEqual(target.DeadLetterConfig, { Arn: getAtt('EventsDeadLetterQueue', 'Arn') });
        const retry = target.RetryPolicy as {
          MaximumEventAgeInSeconds: number;
          MaximumRetryAttempts: number;
        };
        assert.ok(retry.MaximumEventAgeInSeconds <= 3600 && retry.MaximumRetryAttempts <= 10);
      }
      const permissions = resourcesOfType(template, 'AWS::Lambda::Permission')
        .map(([, permission]) => permission.Properties ?? {})
        .filter((properties) => properties.Principal === 'events.amazonaws.com');
      assert.equal(permissions.length, 2);
    });

    it('bounds asynchronous retries and event age, then sends the event to the dead-letter queue', () => {
      const [, config] = only(
        resourcesOfType(deployed.example, 'AWS::Lambda::EventInvokeConfig'),
        'invoke config',
      );
      assert.deepEqual(config.Properties?.FunctionName, { Ref: FUNCTIONS.eventbridge });
      assert.ok((config.Properties?.MaximumRetryAttempts as number) <= 2);
      // Lambda's default keeps retrying for six hours.
      assert.ok((config.Properties?.MaximumEventAgeInSeconds as number) <= 3600);
      assert.deepEqual(config.Properties?.DestinationConfig, {
        OnFailure: { Destination: getAtt('EventsDeadLetterQueue', 'Arn') },
      });
    });

    it('lets only the two rules of the stack send to the dead-letter queue', () => {
      const template = deployed.example;
      const [, policy] = only(resourcesOfType(template, 'AWS::SQS::QueuePolicy'), 'queue policy');
      assert.deepEqual(policy.Properties?.Queues, [{ Ref: 'EventsDeadLetterQueue' }]);
      const statement = only(statementsOf(policy), 'statement');
      assert.deepEqual(statement.Principal, { Service: 'events.amazonaws.com' });
      assert.deepEqual(actionsOf(statement), ['sqs:SendMessage']);
      const sourceArns = (statement.Condition?.ArnEquals?.['aws:SourceArn'] ?? []) as { 'Fn::Sub': string }[];
      const sources = sourceArns.map((arn) => arn['Fn::Sub'].replace(/^.*:rule\//, ''));
      const [, bus] = only(resourcesOfType(template, 'AWS::Events::EventBus'), 'event bus');
      const expected = rules(template).map((rule) =>
        rule.EventBusName === undefined ? rule.Name : `${bus.Properties?.Name}/${rule.Name}`,
      );
      assert.deepEqual(sources.sort(), (expected as string[]).sort());
    });
  });

  describe('IAM', () => {
    it('gives each function a role of its own', () => {
      for (const [name, id] of Object.entries(FUNCTIONS)) {
        assert.deepEqual(
          propertiesOf(deployed.example, id).Role,
          getAtt(ROLES[name as keyof typeof ROLES], 'Arn'),
        );
      }
      assert.equal(resourcesOfType(deployed.example, 'AWS::IAM::Role').length, 3);
    });

    it('scopes every permission to ARNs and names every action, with or without the optional parts', () => {
      for (const variant of ['example', 'minimal', 'fifoJwt'] as const) {
        // Deny statements (the deployment bucket's TLS-only policy) only take permissions away.
        const allowed = allStatements(deployed[variant]).filter(
          ([, statement]) => statement.Effect === 'Allow',
        );
        assert.ok(allowed.length >= 6);
        for (const [id, statement] of allowed) {
          const where = `${variant} ${id}: ${JSON.stringify(statement)}`;
          for (const action of actionsOf(statement)) assert.doesNotMatch(action, /\*/, where);
          assert.notEqual(statement.Resource, undefined, where);
          assert.doesNotMatch(JSON.stringify(statement.Resource), /\*/, where);
          assert.notEqual(statement.Principal, '*', where);
        }
      }
    });

    it('lets the logs of each function go only to its own log group', () => {
      for (const [name, role] of Object.entries(ROLES)) {
        const logs = statementsOf(deployed.example.Resources[role] as never).filter((statement) =>
          actionsOf(statement).some((action) => action.startsWith('logs:')),
        );
        const logGroup = `${name[0]?.toUpperCase()}${name.slice(1)}LogGroup`;
        assert.deepEqual(only(logs, 'logs statement').Resource, getAtt(logGroup, 'Arn'));
        assert.deepEqual(actionsOf(only(logs, 'logs statement')).sort(), [
          'logs:CreateLogStream',
          'logs:PutLogEvents',
        ]);
      }
    });

    it('lets only the sqs function receive from its queue, and only the eventbridge function send, to its dead-letter queue', () => {
      const statements = allStatements(deployed.example).filter(
        ([id]) => id !== 'EventsDeadLetterQueuePolicy',
      );
      const sqsActions = statements.flatMap(([id, statement]) =>
        actionsOf(statement)
          .filter((action) => action.startsWith('sqs:'))
          .map((action) => [id, action, statement.Resource]),
      );
      assert.deepEqual(sqsActions.sort(), [
        ['EventbridgeFunctionRole', 'sqs:SendMessage', getAtt('EventsDeadLetterQueue', 'Arn')],
        ['SqsFunctionRole', 'sqs:DeleteMessage', getAtt('OrdersQueue', 'Arn')],
        ['SqsFunctionRole', 'sqs:GetQueueAttributes', getAtt('OrdersQueue', 'Arn')],
        ['SqsFunctionRole', 'sqs:ReceiveMessage', getAtt('OrdersQueue', 'Arn')],
      ]);
    });

    const secretStatements = (template: CloudFormationTemplate) =>
      allStatements(template).filter(([, statement]) =>
        actionsOf(statement).some(
          (action) => action.startsWith('secretsmanager:') || action.startsWith('kms:'),
        ),
      );

    it('reads the configured secret only, and decrypts only through Secrets Manager with its customer key', () => {
      const template = deployed.example;
      const statements = secretStatements(template);
      assert.deepEqual(
        statements.map(([id, statement]) => [id, actionsOf(statement), statement.Resource]),
        [
          ['TemporalSecretReadPolicy', ['secretsmanager:GetSecretValue'], SECRET_ARN],
          ['TemporalSecretReadPolicy', ['kms:Decrypt'], KMS_KEY_ARN],
        ],
      );
      const decrypt = statements[1]?.[1];
      assert.deepEqual(decrypt?.Condition?.StringEquals?.['kms:EncryptionContext:SecretARN'], SECRET_ARN);
      assert.deepEqual(decrypt?.Condition?.StringEquals?.['kms:ViaService'], {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own substitution syntax
        'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com',
      });
      for (const role of Object.values(ROLES)) {
        assert.deepEqual(propertiesOf(template, role).ManagedPolicyArns, [
          { Ref: 'TemporalSecretReadPolicy' },
        ]);
      }
    });

    it('has no kms:Decrypt without a customer key, and no secret permission without a secret', () => {
      assert.deepEqual(
        secretStatements(deployed.fifoJwt)
          .filter(([id]) => id === 'TemporalSecretReadPolicy')
          .map(([, statement]) => actionsOf(statement)),
        [['secretsmanager:GetSecretValue']],
      );
      assert.deepEqual(secretStatements(deployed.minimal), []);
      for (const role of Object.values(ROLES)) {
        assert.equal(propertiesOf(deployed.minimal, role).ManagedPolicyArns, undefined);
      }
    });
    it('lets only the http function read the webhook secrets, when some are named', () => {
      assert.deepEqual(
        secretStatements(deployed.fifoJwt)
          .filter(([id]) => id !== 'TemporalSecretReadPolicy')
          .map(([id, statement]) => [id, actionsOf(statement), statement.Resource]),
        [
          [
            'HttpFunctionRole',
            ['secretsmanager:GetSecretValue'],
            { 'Fn::Split': [',', WEBHOOK_ARNS.join(',')] },
          ],
        ],
      );
      assert.equal(
        secretStatements(deployed.example).some(([id]) => id !== 'TemporalSecretReadPolicy'),
        false,
      );
    });
  });

  describe('alarms', () => {
    const alarms = (template: CloudFormationTemplate) =>
      resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties ?? {});
    const watched = (template: CloudFormationTemplate) =>
      alarms(template)
        .map((alarm) => {
          const [dimension] = alarm.Dimensions as { Value: unknown }[];
          const target = dimension?.Value as { Ref?: string; 'Fn::GetAtt'?: string[] };
          return `${alarm.MetricName} ${target.Ref ?? target['Fn::GetAtt']?.[0]}`;
        })
        .sort();

    it('watch dead-letter queue depth, errors and throttles of every function, and 5xx answers', () => {
      assert.deepEqual(
        watched(deployed.example),
        [
          'ApproximateNumberOfMessagesVisible EventsDeadLetterQueue',
          'ApproximateNumberOfMessagesVisible OrdersDeadLetterQueue',
          '5xx HttpApi',
          ...Object.values(FUNCTIONS).map((id) => `Errors ${id}`),
          ...Object.values(FUNCTIONS).map((id) => `Throttles ${id}`),
        ].sort(),
      );
      for (const alarm of alarms(deployed.example)) {
        assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
        assert.equal(alarm.Threshold, 0);
        assert.equal(alarm.TreatMissingData, 'notBreaching');
      }
    });

    it('notify a topic of their own with alarmEmail, an existing topic with alarmTopicArn, else nobody', () => {
      const [, topic] = only(resourcesOfType(deployed.example, 'AWS::SNS::Topic'), 'alarm topic');
      assert.deepEqual(topic.Properties?.Subscription, [{ Protocol: 'email', Endpoint: 'ops@example.com' }]);
      for (const alarm of alarms(deployed.example)) {
        assert.deepEqual(alarm.AlarmActions, [{ Ref: 'AlarmTopic' }]);
        assert.deepEqual(alarm.OKActions, [{ Ref: 'AlarmTopic' }]);
      }
      assert.equal(resourcesOfType(deployed.fifoJwt, 'AWS::SNS::Topic').length, 0);
      for (const alarm of alarms(deployed.fifoJwt)) assert.deepEqual(alarm.AlarmActions, [TOPIC_ARN]);
      assert.equal(resourcesOfType(deployed.minimal, 'AWS::SNS::Topic').length, 0);
      for (const alarm of alarms(deployed.minimal)) assert.equal(alarm.AlarmActions, undefined);
    });
  });

  describe('cfn-lint', () => {
    it('finds nothing in the templates, whichever optional parts are on', async () => {
      const { code, output } = await lintTemplates([files.example, files.minimal, files.fifoJwt]);
      assert.equal(code, 0, output);
    });

    it('rejects a secret name where its ARN belongs', async () => {
      assert.equal(conditionHolds(raw.secretName, 'HasTemporalSecret'), true);
      const { code, output } = await lintTemplates([files.secretName]);
      assert.notEqual(code & 2, 0, output);
      assert.match(output, /E2015/);
    });
  });
});
