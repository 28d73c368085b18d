import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build, type Plugin } from 'esbuild';
import { unzipSync } from 'fflate';
import { checkBundledRoutes } from '../../infra/build.ts';
import { lintTemplates } from '../../infra/cfnLint.ts';
import { scanTemplates } from '../../infra/checkov.ts';
import {
  DeploymentError,
  type DeploymentSettings,
  DYNAMODB_READ,
  derive,
  KINESIS_READ,
  localKinesisArn,
} from '../../infra/derive.ts';
import {
  type CloudFormationResource,
  type CloudFormationTemplate,
  EXAMPLE_PARAMS,
  type Packaged,
  packageService,
  stageService,
} from '../../infra/package.ts';
import { BUNDLED_ROUTES_INPUT, bundledRoutes } from '../../infra/plugins.ts';
import { CORS, httpCorsOptions } from '../../lib/http/cors.ts';
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
 * serverless.yml and infra/, packaged offline by the real osls CLI into CloudFormation (no AWS access),
 * read back and linted by cfn-lint. Each variant stages a routes file as the build's dist/routes.json,
 * from which the deployment is derived. `npm test` builds the zips the packaging needs first.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const FUNCTIONS = {
  http: 'HttpLambdaFunction',
  sqs: 'SqsLambdaFunction',
  eventbridge: 'EventbridgeLambdaFunction',
};
const ROLES = { http: 'HttpFunctionRole', sqs: 'SqsFunctionRole', eventbridge: 'EventbridgeFunctionRole' };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:temporal-prod-AbCdEf';
const KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops';
const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/internal-alb/50dc6c495c0c9188/f2f7dc8efc522ab2';
const SUBNETS = ['subnet-0a1b2c3d', 'subnet-0e1f2a3b'];
const SECURITY_GROUPS = ['sg-0c1d2e3f'];
const WEBHOOK_ARNS = [
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks/github-Ab12Cd',
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks/stripe-Ef34Gh',
] as const;

const CLICKS_STREAM_ARN = 'arn:aws:kinesis:us-east-1:210987654321:stream/clicks';
const TABLE_STREAM_ARNS = {
  orders: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
  customers: 'arn:aws:dynamodb:us-east-1:123456789012:table/customers/stream/2026-01-02T00:00:00.000',
};

/**
 * The routes files the variants deploy: the example, one with a FIFO queue, one with a route of each kind
 * more, one with Kinesis and DynamoDB routes.
 */
const ROUTES = {
  example: join(ROOT, 'routes.json'),
  fifo: join(ROOT, 'test', 'routes', 'deploy-fifo.json'),
  added: join(ROOT, 'test', 'routes', 'deploy-added.json'),
  streams: join(ROOT, 'test', 'routes', 'deploy-streams.json'),
};
const readRoutes = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as RoutesFile;

const VARIANTS = {
  // What `npm run package` checks, plus a customer key and an alarm email.
  example: {
    routes: ROUTES.example,
    params: {
      ...EXAMPLE_PARAMS,
      temporalSecretArn: SECRET_ARN,
      temporalSecretKmsKeyArn: KMS_KEY_ARN,
      alarmEmail: 'ops@example.com',
    },
  },
  // The other choices: a FIFO queue, a JWT authorizer, an existing alarm topic, a secret with the AWS
  // managed key, CORS, burst bounds of its own, no metrics, and the OpenAPI document served.
  fifoJwt: {
    routes: ROUTES.fifo,
    params: {
      temporalAddress: 'temporal.internal:7233',
      temporalSecretArn: SECRET_ARN,
      httpAuth: 'jwt',
      jwtIssuerUrl: 'https://issuer.example.com/',
      jwtAudience: 'temporal-triggers',
      alarmTopicArn: TOPIC_ARN,
      corsAllowOrigins: 'https://app.example.com,https://*',
      temporalTaskQueue: 'default-queue',
      webhookSecretArns: `${WEBHOOK_ARNS[0]},${WEBHOOK_ARNS[1]}`,
      httpReservedConcurrency: '20',
      eventbridgeReservedConcurrency: '5',
      httpThrottlingBurstLimit: '10',
      httpThrottlingRateLimit: '25',
      vpcSubnetIds: SUBNETS.join(','),
      vpcSecurityGroupIds: SECURITY_GROUPS.join(','),
      kmsKeyArn: KMS_KEY_ARN,
      metrics: 'off',
      metricsNamespace: 'Shop',
      functionUrl: 'iam',
      albListenerArn: LISTENER_ARN,
      albPriority: '42',
      albPathPattern: '/hooks/*',
      albMultiValueHeaders: 'true',
      httpOpenapi: 'on',
    },
  },
  // Add a route of each kind to routes.json, package, and find each deployed; with only the one required
  // parameter: every optional part off, every bound at its default.
  added: { routes: ROUTES.added, params: { temporalAddress: 'temporal.internal:7233' } },
  // Kinesis streams (one of this account, one of another, given by ARN) and DynamoDB tables, read from
  // the start of their streams, with a customer key.
  streams: {
    routes: ROUTES.streams,
    params: {
      temporalAddress: 'temporal.internal:7233',
      kinesisStreamArns: CLICKS_STREAM_ARN,
      dynamodbStreamArns: `${TABLE_STREAM_ARNS.orders},${TABLE_STREAM_ARNS.customers}`,
      streamsStartingPosition: 'TRIM_HORIZON',
      kmsKeyArn: KMS_KEY_ARN,
    },
  },
  // A mistake cfn-lint must catch: the secret's name where its ARN belongs.
  secretName: {
    routes: ROUTES.example,
    params: { temporalAddress: 'temporal.internal:7233', temporalSecretArn: 'temporal-prod' },
  },
} as const;
type Variant = keyof typeof VARIANTS;

/** Packagings that must fail, each with a message that says why. */
const FAILING = {
  // A pattern the function's CORS once took, and the HTTP API never did.
  corsPattern: {
    routes: ROUTES.example,
    params: {
      temporalAddress: 'temporal.internal:7233',
      corsAllowOrigins: 'https://app.example.com,https://*.example.com',
    },
  },
  // Subnets without security groups: a function's VPC configuration needs both.
  vpcHalf: {
    routes: ROUTES.example,
    params: { temporalAddress: 'temporal.internal:7233', vpcSubnetIds: 'subnet-0a1b2c3d' },
  },
  // No build: nothing to derive the routes from.
  noBuild: { routes: null, params: { temporalAddress: 'temporal.internal:7233' } },
  // DynamoDB routes without their tables' stream ARNs, which end in a label and cannot be derived.
  streamsNoArn: { routes: ROUTES.streams, params: { temporalAddress: 'temporal.internal:7233' } },
  // httpOpenapi takes "on" or "off", as metrics does.
  openapiYes: {
    routes: ROUTES.example,
    params: { temporalAddress: 'temporal.internal:7233', httpOpenapi: 'yes' },
  },
} as const;

type Trigger = 'http' | 'sqs' | 'eventbridge' | 'schedule' | 'scheduler' | 'kinesis' | 'dynamodb';
const routesOf = <K extends Trigger>(file: RoutesFile, kind: K) =>
  file.routes.flatMap((route) =>
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

const propertiesOfType = (template: CloudFormationTemplate, type: string) =>
  resourcesOfType(template, type).map(([, resource]) => resource.Properties ?? {});

const routeKeys = (template: CloudFormationTemplate) =>
  propertiesOfType(template, 'AWS::ApiGatewayV2::Route');

/** The logical ID of the resource of `type` whose `property` is `value`. */
const idOf = (template: CloudFormationTemplate, type: string, property: string, value: unknown): string =>
  only(
    resourcesOfType(template, type).filter(([, resource]) => resource.Properties?.[property] === value),
    `${type} with ${property} ${JSON.stringify(value)}`,
  )[0];

const ALARM_WARNING = /WARNING: the alarms of this stack notify nobody/;

describe('serverless package', () => {
  let dir: string;
  const raw = {} as Record<Variant, CloudFormationTemplate>;
  const deployed = {} as Record<Variant, CloudFormationTemplate>;
  const files = {} as Record<Variant, string>;
  const stderr = {} as Record<Variant, string>;
  const failures = {} as Record<keyof typeof FAILING, string>;
  let lint: ReturnType<typeof lintTemplates>;
  let state: {
    service: { functions: Record<string, { package?: { artifact?: string } }>; plugins?: unknown };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deployment-'));
    const packaging = async (name: string, { routes, params }: { routes: string | null; params: object }) =>
      packageService({
        serviceDir: await stageService(join(dir, name), { routes }),
        params: params as Record<string, string>,
      });
    await Promise.all([
      ...Object.entries(VARIANTS).map(async ([variant, setup]) => {
        const packaged: Packaged = await packaging(variant, setup);
        raw[variant as Variant] = packaged.template;
        deployed[variant as Variant] = effective(packaged.template);
        files[variant as Variant] = packaged.templateFile;
        stderr[variant as Variant] = packaged.stderr;
      }),
      ...Object.entries(FAILING).map(async ([name, setup]) => {
        const error = await packaging(name, setup).then(
          () => new Error('packaged'),
          (reason: unknown) => reason,
        );
        failures[name as keyof typeof FAILING] = error instanceof Error ? error.message : String(error);
      }),
    ]);
    state = JSON.parse(await readFile(join(dir, 'example', '.serverless', 'serverless-state.json'), 'utf8'));
    // One cfn-lint run for every template (it takes a second or two to start): the tests read its findings.
    lint = lintTemplates(Object.values(files));
    // Awaited by the tests; a failure is theirs to report, not an unhandled rejection before they run.
    lint.catch(() => {});
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
        assert.equal(variables.POWERTOOLS_SERVICE_NAME, 'temporal-triggers-dev');
        assert.equal(variables.POWERTOOLS_METRICS_NAMESPACE, 'TemporalTriggers');
        assert.equal(variables.POWERTOOLS_METRICS_DISABLED, 'false');
        for (const name of Object.keys(variables)) {
          assert.doesNotMatch(name, /API_KEY|_KEY_DATA|_CERT_DATA|PASSWORD|TOKEN/, `${id} has ${name}`);
        }
      }
      assert.equal(environmentOf(example, FUNCTIONS.http).HTTP_MAX_BODY_BYTES, '1048576');
      assert.equal(environmentOf(example, FUNCTIONS.http).HTTP_OPENAPI, 'off');
      assert.equal(environmentOf(example, FUNCTIONS.sqs).SQS_CONCURRENCY, '10');
      assert.equal(environmentOf(example, FUNCTIONS.sqs).HTTP_MAX_BODY_BYTES, undefined);

      // Optional settings are absent when not set, and present when set.
      const unset = environmentOf(deployed.added, FUNCTIONS.http);
      for (const name of ['TEMPORAL_SECRET_ID', 'TEMPORAL_TASK_QUEUE', 'CORS_ALLOW_ORIGINS']) {
        assert.equal(name in unset, false, `${name} is set without its parameter`);
      }
      const fifoJwt = environmentOf(deployed.fifoJwt, FUNCTIONS.http);
      assert.equal(fifoJwt.TEMPORAL_TASK_QUEUE, 'default-queue');
      assert.equal(fifoJwt.CORS_ALLOW_ORIGINS, VARIANTS.fifoJwt.params.corsAllowOrigins);
      assert.equal(fifoJwt.POWERTOOLS_METRICS_DISABLED, 'true');
      assert.equal(fifoJwt.POWERTOOLS_METRICS_NAMESPACE, 'Shop');
      assert.equal(fifoJwt.HTTP_OPENAPI, 'on');
    });
  });

  describe('the routes file', () => {
    it('is what the build bundled: dist/routes.json is routes.json, in every function', async () => {
      const text = await readFile('dist/routes.json', 'utf8');
      assert.equal(text, await readFile(ROUTES.example, 'utf8'), 'npm test builds routes.json');
      const file = JSON.parse(text) as RoutesFile;
      for (const name of Object.keys(FUNCTIONS)) {
        // The deployed code: index.mjs and its chunks (the routes sit in a chunk that index.mjs shares).
        const zip = unzipSync(await readFile(`dist/${name}.zip`));
        const code = Object.values(zip)
          .map((bytes) => Buffer.from(bytes).toString('utf8'))
          .join('\n');
        for (const route of file.routes) {
          assert.ok(code.includes(JSON.stringify(route.name)), `${name}: ${route.name}`);
        }
      }
    });

    it('given to the build, replaces routes.json in the bundle, and the build can tell', async () => {
      const bundleLoader = (plugins: Plugin[]) =>
        build({
          entryPoints: ['lib/routes/load.ts'],
          bundle: true,
          write: false,
          metafile: true,
          platform: 'node',
          format: 'esm',
          packages: 'external',
          logLevel: 'silent',
          plugins,
        });
      assert.ok(
        'routes.json' in (await bundleLoader([])).metafile.inputs,
        'without it, routes.json is bundled',
      );
      const { metafile, outputFiles } = await bundleLoader([
        bundledRoutes(await readFile(ROUTES.added, 'utf8')),
      ]);
      assert.ok(metafile.inputs[BUNDLED_ROUTES_INPUT], 'the routes file is an input of the bundle');
      assert.equal('routes.json' in metafile.inputs, false, "the project's routes.json is not");
      assert.match(outputFiles?.[0]?.text ?? '', /large-eu-payments/);
    });

    it('of every variant is one the build accepts', async () => {
      for (const path of Object.values(ROUTES)) await checkBundledRoutes(path);
    });

    it('is required: packaging without a build fails and says to build first', () => {
      assert.match(failures.noBuild, /dist\/routes\.json is missing: run `npm run build` first/);
    });
  });

  describe('http', () => {
    it('routes the workflow API and every HTTP route of the routes file to the http function', () => {
      for (const variant of ['example', 'fifoJwt', 'added'] as const) {
        const routes = VARIANTS[variant].routes;
        const expected = [
          'POST /workflows/{workflowType}',
          'GET /workflows/{workflowId}',
          // The OpenAPI document, where httpOpenapi is on.
          ...(variant === 'fifoJwt' ? ['GET /openapi.json'] : []),
          ...routesOf(readRoutes(routes), 'http').map(({ method, path }) => `${method} ${path}`),
        ];
        assert.deepEqual(
          routeKeys(deployed[variant])
            .map((route) => route.RouteKey)
            .sort(),
          expected.sort(),
        );

        const integration = only(
          resourcesOfType(deployed[variant], 'AWS::ApiGatewayV2::Integration'),
          'integration',
        )[1];
        assert.deepEqual(integration.Properties?.IntegrationUri, { 'Fn::GetAtt': [FUNCTIONS.http, 'Arn'] });
        assert.equal(integration.Properties?.PayloadFormatVersion, '2.0');
      }
    });

    it('takes httpOpenapi "on" or "off" only', () => {
      assert.match(failures.openapiYes, /httpOpenapi must be "on" or "off", got "yes"/);
    });

    /** Route keys of the routes with a webhook signature: their signature is their authentication. */
    const signedKeys = (routes: string) =>
      routesOf(readRoutes(routes), 'http')
        .filter(({ signature }) => signature !== undefined)
        .map(({ method, path }) => `${method} ${path}`);

    it('requires IAM (SigV4) on every route by default, but for signed webhooks', () => {
      const signed = signedKeys(ROUTES.added);
      assert.deepEqual(signed, ['POST /webhooks/stripe']);
      for (const variant of ['example', 'added'] as const) {
        for (const route of routeKeys(deployed[variant])) {
          const authorization = signed.includes(route.RouteKey as string) ? undefined : 'AWS_IAM';
          assert.equal(route.AuthorizationType, authorization, `${variant} ${route.RouteKey}`);
        }
        assert.equal(resourcesOfType(deployed[variant], 'AWS::ApiGatewayV2::Authorizer').length, 0);
      }
    });

    it('requires a JWT from the issuer, for the audience, on every route with httpAuth=jwt, but for signed webhooks', () => {
      const template = deployed.fifoJwt;
      const [id, authorizer] = only(resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer'), 'authorizer');
      assert.equal(authorizer.Properties?.AuthorizerType, 'JWT');
      assert.deepEqual(authorizer.Properties?.IdentitySource, ['$request.header.Authorization']);
      assert.deepEqual(authorizer.Properties?.JwtConfiguration, {
        Issuer: 'https://issuer.example.com/',
        Audience: ['temporal-triggers'],
      });
      const signed = signedKeys(ROUTES.fifo);
      assert.deepEqual(signed, ['POST /webhooks/github']);
      for (const route of routeKeys(template)) {
        const isSigned = signed.includes(route.RouteKey as string);
        assert.equal(route.AuthorizationType, isSigned ? undefined : 'JWT', String(route.RouteKey));
        assert.deepEqual(route.AuthorizerId, isSigned ? undefined : { Ref: id });
      }
    });

    it('answers CORS as lib/http/cors.ts says, for the configured origins, only when corsAllowOrigins is set', () => {
      assert.equal(propertiesOf(deployed.example, 'HttpApi').CorsConfiguration, undefined);
      const cors = propertiesOf(deployed.fifoJwt, 'HttpApi').CorsConfiguration;
      assert.deepEqual(cors, {
        AllowOrigins: { 'Fn::Split': [',', VARIANTS.fifoJwt.params.corsAllowOrigins] },
        AllowMethods: CORS.allowMethods,
        AllowHeaders: CORS.allowHeaders,
        ExposeHeaders: CORS.exposeHeaders,
        MaxAge: CORS.maxAgeSeconds,
      });
      // The function's own CORS answers with the same lists.
      const options = httpCorsOptions(['https://app.example.com']);
      assert.equal(options.headers, CORS.allowHeaders.join(', '));
      assert.equal(options.methods, CORS.allowMethods.join(', '));
      assert.equal(options.exposeHeaders, 'location, preference-applied, retry-after');
      assert.equal(options.maxAge, CORS.maxAgeSeconds);
    });

    it('refuses an origin pattern the HTTP API cannot serve, naming it', () => {
      assert.match(
        failures.corsPattern,
        /corsAllowOrigins: "https:\/\/\*\.example\.com" is not an allowed origin/,
      );
      assert.doesNotMatch(failures.corsPattern, /"https:\/\/app\.example\.com"/);
    });

    it('throttles bursts at the API: 50 at once and 100 a second by default, or as configured', () => {
      const settings = (variant: Variant) =>
        propertiesOf(deployed[variant], 'HttpApiStage').DefaultRouteSettings as Record<string, unknown>;
      for (const variant of ['example', 'added'] as const) {
        assert.deepEqual(settings(variant), {
          DetailedMetricsEnabled: false,
          ThrottlingBurstLimit: '50',
          ThrottlingRateLimit: '100',
        });
      }
      assert.equal(settings('fifoJwt').ThrottlingBurstLimit, '10');
      assert.equal(settings('fifoJwt').ThrottlingRateLimit, '25');
    });

    it('reserves no concurrency by default, so that it deploys in any account, and reserves what is configured', () => {
      for (const variant of ['example', 'added'] as const) {
        for (const id of Object.values(FUNCTIONS)) {
          assert.equal(
            propertiesOf(deployed[variant], id).ReservedConcurrentExecutions,
            undefined,
            `${variant} ${id}`,
          );
        }
      }
      assert.equal(propertiesOf(deployed.fifoJwt, FUNCTIONS.http).ReservedConcurrentExecutions, '20');
      assert.equal(propertiesOf(deployed.fifoJwt, FUNCTIONS.eventbridge).ReservedConcurrentExecutions, '5');
      // The sqs function is bounded by its mappings' maximum concurrency instead.
      assert.equal(propertiesOf(deployed.fifoJwt, FUNCTIONS.sqs).ReservedConcurrentExecutions, undefined);
    });

    it('has no Function URL and no load balancer target by default', () => {
      for (const variant of ['example', 'added'] as const) {
        for (const type of [
          'AWS::Lambda::Url',
          'AWS::ElasticLoadBalancingV2::TargetGroup',
          'AWS::ElasticLoadBalancingV2::ListenerRule',
        ]) {
          assert.deepEqual(resourcesOfType(deployed[variant], type), [], `${variant} ${type}`);
        }
        assert.equal(conditionHolds(raw[variant], 'HasFunctionUrl'), false, 'nor its output');
      }
    });

    it('has a Function URL with IAM auth when functionUrl=iam, and outputs its address', () => {
      const [url] = only(resourcesOfType(deployed.fifoJwt, 'AWS::Lambda::Url'), 'function URL');
      assert.deepEqual(propertiesOf(deployed.fifoJwt, url), {
        TargetFunctionArn: getAtt(FUNCTIONS.http, 'Arn'),
        AuthType: 'AWS_IAM',
      });
      assert.deepEqual(raw.fifoJwt.Outputs?.HttpFunctionUrl, {
        Condition: 'HasFunctionUrl',
        Description: "The http function's URL (IAM auth)",
        Value: getAtt(url, 'FunctionUrl'),
      });
    });

    it("forwards an ALB listener's paths to the function, through a target group the load balancers of the account may invoke", () => {
      const template = deployed.fifoJwt;
      const [group] = only(
        resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup'),
        'target group',
      );
      const properties = propertiesOf(template, group);
      assert.equal(properties.TargetType, 'lambda');
      assert.deepEqual(properties.Targets, [{ Id: getAtt(FUNCTIONS.http, 'Arn') }]);
      assert.deepEqual(properties.TargetGroupAttributes, [
        { Key: 'lambda.multi_value_headers.enabled', Value: 'true' },
      ]);
      const [rule] = only(resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::ListenerRule'), 'rule');
      assert.deepEqual(propertiesOf(template, rule), {
        ListenerArn: LISTENER_ARN,
        Priority: '42',
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/hooks/*'] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: { Ref: group } }],
      });
      const permission = only(
        propertiesOfType(template, 'AWS::Lambda::Permission').filter(
          ({ Principal }) => Principal === 'elasticloadbalancing.amazonaws.com',
        ),
        'load balancer permission',
      );
      assert.deepEqual(permission, {
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(FUNCTIONS.http, 'Arn'),
        Principal: 'elasticloadbalancing.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      });
      // The target group registers the function only once the permission exists.
      assert.deepEqual(template.Resources[group]?.DependsOn, ['HttpAlbInvokePermission']);
    });
  });

  describe('sqs', () => {
    const mappings = (template: CloudFormationTemplate) =>
      propertiesOfType(template, 'AWS::Lambda::EventSourceMapping');
    const mappingOf = (template: CloudFormationTemplate, queue: string) =>
      only(
        mappings(template).filter(
          ({ EventSourceArn }) => JSON.stringify(EventSourceArn) === JSON.stringify(getAtt(queue, 'Arn')),
        ),
        `mapping of ${queue}`,
      );
    const sqsTimeout = (template: CloudFormationTemplate) =>
      propertiesOf(template, FUNCTIONS.sqs).Timeout as number;
    const queueNames = (path: string) => [
      ...new Set(routesOf(readRoutes(path), 'sqs').map(({ queue }) => queue)),
    ];

    it('has a queue and a dead-letter queue per queue the routes name, each mapped to the function', () => {
      for (const variant of ['example', 'fifoJwt', 'added'] as const) {
        const routes = VARIANTS[variant].routes;
        const template = deployed[variant];
        const names = queueNames(routes);
        const queues = propertiesOfType(template, 'AWS::SQS::Queue')
          .map(({ QueueName }) => QueueName)
          .filter((name) => name !== undefined);
        const deadLetters = names.map((name) =>
          name.endsWith('.fifo') ? name.replace(/\.fifo$/, '-dlq.fifo') : `${name}-dlq`,
        );
        assert.deepEqual(queues.sort(), [...names, ...deadLetters].sort(), variant);
        assert.equal(mappings(template).length, names.length, `${variant}: one mapping per queue`);
        for (const name of names) {
          const queue = idOf(template, 'AWS::SQS::Queue', 'QueueName', name);
          assert.deepEqual(mappingOf(template, queue).FunctionName, getAtt(FUNCTIONS.sqs, 'Arn'));
          assert.deepEqual(template.Outputs?.[`${queue}Url`], { Value: { Ref: queue } });
        }
      }
      // Two routes on one queue (orders, by message attribute) share it.
      assert.deepEqual(queueNames(ROUTES.added), ['orders', 'invoices']);
    });

    it('reports batch item failures, with a batch size, a batching window and a concurrency cap', () => {
      for (const queue of ['OrdersQueue', 'InvoicesQueue']) {
        const properties = mappingOf(deployed.added, queue);
        assert.deepEqual(properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
        assert.equal(properties.BatchSize, 10);
        assert.equal(properties.MaximumBatchingWindowInSeconds, 1);
        assert.equal((properties.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency, 5);
      }
    });

    it('hides a received message for at least six times the function timeout plus the batching window', () => {
      const template = deployed.example;
      const window = mappingOf(template, 'OrdersQueue').MaximumBatchingWindowInSeconds as number;
      const visibility = propertiesOf(template, 'OrdersQueue').VisibilityTimeout as number;
      assert.ok(
        visibility >= 6 * sqsTimeout(template) + window,
        `${visibility} s for a ${sqsTimeout(template)} s function`,
      );
    });

    it('moves a message to the dead-letter queue after five receives, and alarms on it', () => {
      const template = deployed.added;
      for (const name of ['Orders', 'Invoices']) {
        assert.deepEqual(propertiesOf(template, `${name}Queue`).RedrivePolicy, {
          deadLetterTargetArn: getAtt(`${name}DeadLetterQueue`, 'Arn'),
          maxReceiveCount: 5,
        });
        assert.equal(propertiesOf(template, `${name}DeadLetterQueue`).MessageRetentionPeriod, 1209600);
        const alarm = propertiesOf(template, `${name}DeadLetterQueueAlarm`);
        assert.deepEqual(alarm.Dimensions, [
          { Name: 'QueueName', Value: getAtt(`${name}DeadLetterQueue`, 'QueueName') },
        ]);
        assert.deepEqual(template.Outputs?.[`${name}DeadLetterQueueUrl`], {
          Value: { Ref: `${name}DeadLetterQueue` },
        });
      }
    });

    it('is FIFO, with a FIFO dead-letter queue and no batching window, for a name ending in .fifo', () => {
      const template = deployed.fifoJwt;
      const queue = propertiesOf(template, 'OrdersFifoQueue');
      const deadLetters = propertiesOf(template, 'OrdersFifoDeadLetterQueue');
      assert.equal(queue.QueueName, 'orders.fifo');
      assert.equal(queue.FifoQueue, true);
      assert.equal(queue.ContentBasedDeduplication, true);
      assert.equal(queue.DeduplicationScope, 'messageGroup');
      assert.equal(queue.FifoThroughputLimit, 'perMessageGroupId');
      assert.equal(deadLetters.QueueName, 'orders-dlq.fifo');
      assert.equal(deadLetters.FifoQueue, true);
      assert.deepEqual(queue.RedrivePolicy, {
        deadLetterTargetArn: getAtt('OrdersFifoDeadLetterQueue', 'Arn'),
        maxReceiveCount: 5,
      });
      assert.ok((queue.VisibilityTimeout as number) >= 6 * sqsTimeout(template));

      const properties = mappingOf(template, 'OrdersFifoQueue');
      assert.deepEqual(properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
      assert.equal(
        properties.MaximumBatchingWindowInSeconds,
        undefined,
        'FIFO queues take no batching window',
      );
      assert.ok((properties.BatchSize as number) <= 10);
      assert.equal((properties.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency, 5);
      // A standard queue has none of the FIFO settings.
      assert.equal(propertiesOf(deployed.example, 'OrdersQueue').FifoQueue, undefined);
    });
  });

  describe('eventbridge', () => {
    const rules = (template: CloudFormationTemplate) => propertiesOfType(template, 'AWS::Events::Rule');
    const ruleNamed = (template: CloudFormationTemplate, name: string) =>
      only(
        rules(template).filter((rule) => rule.Name === name),
        `rule ${name}`,
      );

    it('has a rule per EventBridge route on the custom bus the stack creates, matching what the route matches', () => {
      for (const variant of ['example', 'added'] as const) {
        const routes = VARIANTS[variant].routes;
        const template = deployed[variant];
        const [busId, bus] = only(resourcesOfType(template, 'AWS::Events::EventBus'), 'event bus');
        assert.equal(bus.Properties?.Name, 'temporal-triggers-dev');
        const file = readRoutes(routes);
        const patterns = rules(template).filter((rule) => rule.EventPattern !== undefined);
        assert.equal(patterns.length, routesOf(file, 'eventbridge').length, variant);
        for (const route of file.routes.filter(({ eventbridge }) => eventbridge !== undefined)) {
          const rule = ruleNamed(template, route.name);
          assert.deepEqual(rule.EventBusName, { Ref: busId });
          const { source, detailType } = route.eventbridge ?? {};
          assert.deepEqual((rule.EventPattern as Record<string, unknown>).source, [source]);
          assert.deepEqual((rule.EventPattern as Record<string, unknown>)['detail-type'], [detailType]);
        }
      }
      // Detail fields, as EventBridge patterns: each leaf value in an array, nested objects alike.
      assert.deepEqual(ruleNamed(deployed.added, 'large-eu-payments').EventPattern, {
        source: ['com.example.payments'],
        'detail-type': ['PaymentCaptured'],
        detail: { region: ['eu'], large: [true], customer: { tier: ['gold'], flagged: [null] } },
      });
    });

    it('keeps the logical ID serverless gave the bus, so that a stack deployed before keeps it', () => {
      const [id] = only(resourcesOfType(deployed.example, 'AWS::Events::EventBus'), 'event bus');
      assert.equal(id, 'TemporalDashtriggersDashdevEventBridgeEventBus');
    });

    it('runs each schedule with an expression by a rule of its name on the default bus, and makes none without', () => {
      for (const variant of ['example', 'added'] as const) {
        const routes = VARIANTS[variant].routes;
        const scheduled = rules(deployed[variant]).filter((rule) => rule.ScheduleExpression !== undefined);
        const expected = routesOf(readRoutes(routes), 'schedule').filter(
          ({ expression }) => expression !== undefined,
        );
        assert.deepEqual(
          scheduled
            .map(({ Name, ScheduleExpression, EventBusName }) => [Name, ScheduleExpression, EventBusName])
            .sort(),
          expected.map(({ rule, expression }) => [rule, expression, undefined]).sort(),
        );
      }
      assert.equal(ruleNamed(deployed.example, 'nightly-report').ScheduleExpression, 'cron(0 2 * * ? *)');
      assert.equal(
        rules(deployed.added).some((rule) => rule.Name === 'audit-report'),
        false,
        'a schedule route without an expression names a rule made elsewhere',
      );
    });

    it('delivers every rule to the function, retrying for a bounded time, else to the dead-letter queue', () => {
      const template = deployed.added;
      const permissions = propertiesOfType(template, 'AWS::Lambda::Permission').filter(
        (properties) => properties.Principal === 'events.amazonaws.com',
      );
      for (const [id, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
        const target = only(rule.Properties?.Targets as Record<string, unknown>[], 'target');
        assert.deepEqual(target.Arn, getAtt(FUNCTIONS.eventbridge, 'Arn'));
        assert.deepEqual(target.DeadLetterConfig, { Arn: getAtt('EventsDeadLetterQueue', 'Arn') });
        assert.deepEqual(target.RetryPolicy, { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 });
        const permission = only(
          permissions.filter(
            ({ SourceArn }) => JSON.stringify(SourceArn) === JSON.stringify(getAtt(id, 'Arn')),
          ),
          `permission of ${id}`,
        );
        assert.deepEqual(permission.FunctionName, getAtt(FUNCTIONS.eventbridge, 'Arn'));
        assert.equal(permission.Action, 'lambda:InvokeFunction');
      }
      assert.equal(permissions.length, rules(template).length);
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

    it('lets only the rules of the stack send to the dead-letter queue', () => {
      for (const variant of ['example', 'added'] as const) {
        const template = deployed[variant];
        const [, policy] = only(
          resourcesOfType(template, 'AWS::SQS::QueuePolicy').filter(
            ([id]) => id === 'EventsDeadLetterQueuePolicy',
          ),
          'queue policy',
        );
        assert.deepEqual(policy.Properties?.Queues, [{ Ref: 'EventsDeadLetterQueue' }]);
        const statement = only(statementsOf(policy), 'statement');
        assert.deepEqual(statement.Principal, { Service: 'events.amazonaws.com' });
        assert.deepEqual(actionsOf(statement), ['sqs:SendMessage']);
        const ruleArns = resourcesOfType(template, 'AWS::Events::Rule').map(([id]) => getAtt(id, 'Arn'));
        assert.deepEqual(statement.Condition?.ArnEquals?.['aws:SourceArn'], ruleArns);
      }
    });
  });

  describe('SNS and S3', () => {
    const topicArn = (topic: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':sns:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:${topic}`,
        ],
      ],
    });

    it('subscribes the eventbridge function to each topic the routes name, once, with a dead-letter queue', () => {
      const template = deployed.added;
      const subscriptions = propertiesOfType(template, 'AWS::SNS::Subscription');
      assert.deepEqual(
        subscriptions,
        ['orders', 'catalog-prices'].map((topic) => ({
          TopicArn: topicArn(topic),
          Protocol: 'lambda',
          Endpoint: getAtt(FUNCTIONS.eventbridge, 'Arn'),
          RedrivePolicy: { deadLetterTargetArn: getAtt('NotificationsDeadLetterQueue', 'Arn') },
        })),
      );
      const permissions = propertiesOfType(template, 'AWS::Lambda::Permission').filter(
        ({ Principal }) => Principal === 'sns.amazonaws.com',
      );
      assert.deepEqual(
        permissions.map(({ SourceArn, FunctionName, Action }) => [SourceArn, FunctionName, Action]),
        ['orders', 'catalog-prices'].map((topic) => [
          topicArn(topic),
          getAtt(FUNCTIONS.eventbridge, 'Arn'),
          'lambda:InvokeFunction',
        ]),
      );
      // Only those topics may send to the subscriptions' dead-letter queue, which is encrypted and watched.
      const policy = template.Resources.NotificationsDeadLetterQueuePolicy as CloudFormationResource;
      const statement = only(statementsOf(policy), 'statement');
      assert.deepEqual(statement.Principal, { Service: 'sns.amazonaws.com' });
      assert.deepEqual(actionsOf(statement), ['sqs:SendMessage']);
      assert.deepEqual(statement.Condition?.ArnEquals?.['aws:SourceArn'], [
        topicArn('orders'),
        topicArn('catalog-prices'),
      ]);
      assert.equal(propertiesOf(template, 'NotificationsDeadLetterQueue').SqsManagedSseEnabled, true);
    });

    it('lets S3 of this account invoke the function for each bucket the routes name, and outputs its ARN', () => {
      const template = deployed.added;
      const permissions = propertiesOfType(template, 'AWS::Lambda::Permission').filter(
        ({ Principal }) => Principal === 's3.amazonaws.com',
      );
      assert.deepEqual(permissions, [
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: getAtt(FUNCTIONS.eventbridge, 'Arn'),
          Principal: 's3.amazonaws.com',
          SourceArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:', ':', ':shop-invoices']] },
          SourceAccount: { Ref: 'AWS::AccountId' },
        },
      ]);
      assert.deepEqual(raw.added.Outputs?.NotificationsFunctionArn, {
        Value: getAtt(FUNCTIONS.eventbridge, 'Arn'),
      });
    });

    it('derives nothing for SNS or S3 without such routes', () => {
      const template = deployed.example;
      assert.deepEqual(resourcesOfType(template, 'AWS::SNS::Subscription'), []);
      assert.equal(template.Resources.NotificationsDeadLetterQueue, undefined);
      assert.equal(raw.example.Outputs?.NotificationsFunctionArn, undefined);
    });
  });

  describe('EventBridge Scheduler', () => {
    const schedules = (template: CloudFormationTemplate) =>
      propertiesOfType(template, 'AWS::Scheduler::Schedule');

    it('has a schedule per scheduler route with an expression, in its group, invoking the function with no input', () => {
      const template = deployed.added;
      const expected = routesOf(readRoutes(ROUTES.added), 'scheduler').filter(
        ({ expression }) => expression !== undefined,
      );
      assert.equal(schedules(template).length, expected.length);
      for (const { name, group, expression } of expected) {
        const schedule = only(
          schedules(template).filter((properties) => properties.Name === name),
          `schedule ${name}`,
        );
        assert.equal(schedule.ScheduleExpression, expression);
        assert.deepEqual(schedule.FlexibleTimeWindow, { Mode: 'OFF' });
        assert.deepEqual(
          schedule.GroupName,
          group === undefined
            ? undefined
            : { Ref: idOf(template, 'AWS::Scheduler::ScheduleGroup', 'Name', group) },
        );
        assert.deepEqual(schedule.Target, {
          Arn: getAtt(FUNCTIONS.eventbridge, 'Arn'),
          RoleArn: getAtt('SchedulerRole', 'Arn'),
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
          DeadLetterConfig: { Arn: getAtt('EventsDeadLetterQueue', 'Arn') },
        });
      }
      assert.equal(
        schedules(template).some(({ Name }) => Name === 'manual-sync'),
        false,
        'a scheduler route without an expression names a schedule made elsewhere',
      );
      // A group is created only when a schedule of the stack is in it, and never "default".
      assert.deepEqual(propertiesOfType(template, 'AWS::Scheduler::ScheduleGroup'), [
        { Name: 'catalog-sync' },
      ]);
      assert.equal(schedules(deployed.example).length, 0);
    });

    it('invokes with a role of its own, that Scheduler assumes for this account, allowed that function and the dead-letter queue only', () => {
      const role = propertiesOf(deployed.added, 'SchedulerRole');
      const trust = only((role.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement, 'trust');
      assert.deepEqual(trust.Principal, { Service: 'scheduler.amazonaws.com' });
      assert.deepEqual(actionsOf(trust), ['sts:AssumeRole']);
      assert.deepEqual(trust.Condition, { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
      assert.deepEqual(
        statementsOf(deployed.added.Resources.SchedulerRole as never).map((statement) => [
          actionsOf(statement),
          statement.Resource,
        ]),
        [
          [['lambda:InvokeFunction'], getAtt(FUNCTIONS.eventbridge, 'Arn')],
          [['sqs:SendMessage'], getAtt('EventsDeadLetterQueue', 'Arn')],
        ],
      );
      assert.equal(deployed.example.Resources.SchedulerRole, undefined, 'no role without a schedule');
    });
  });

  describe('streams', () => {
    const STREAMS = 'StreamsLambdaFunction';
    const mappings = () => propertiesOfType(deployed.streams, 'AWS::Lambda::EventSourceMapping');
    const localStream = localKinesisArn;

    it('deploys no streams function, role, queue or mapping without kinesis or dynamodb routes', () => {
      for (const variant of ['example', 'fifoJwt', 'added'] as const) {
        const ids = Object.keys(deployed[variant].Resources).filter((id) => id.startsWith('Streams'));
        assert.deepEqual(ids, [], variant);
        const types = resourcesOfType(deployed[variant], 'AWS::Lambda::EventSourceMapping').map(
          ([, mapping]) => JSON.stringify(mapping.Properties?.FunctionName),
        );
        assert.ok(!types.some((name) => name.includes(STREAMS)), variant);
      }
    });

    it('deploys the streams function from its zip, with a role, log group, network and key like the others', () => {
      const properties = propertiesOf(deployed.streams, STREAMS);
      assert.match((properties.Code as { S3Key: string }).S3Key, /\/streams\.zip$/);
      assert.equal(properties.Runtime, 'nodejs24.x');
      assert.deepEqual(properties.Architectures, ['arm64']);
      assert.equal(properties.Timeout, 30);
      assert.deepEqual(properties.Role, getAtt('StreamsFunctionRole', 'Arn'));
      assert.equal(properties.KmsKeyArn, KMS_KEY_ARN);
      assert.equal(environmentOf(deployed.streams, STREAMS).TEMPORAL_ADDRESS, 'temporal.internal:7233');
      const logGroup = propertiesOf(deployed.streams, 'StreamsLogGroup');
      assert.equal(logGroup.RetentionInDays, 30);
      assert.equal(logGroup.KmsKeyId, KMS_KEY_ARN);
      assert.equal(resourcesOfType(deployed.streams, 'AWS::Lambda::Function').length, 4);
    });

    it('maps each stream and table the routes name once, reporting failures by sequence number, bisecting, retrying ten times, then to its queue', () => {
      assert.deepEqual(
        mappings().map(({ EventSourceArn }) => EventSourceArn),
        [
          localStream('orders-stream'),
          CLICKS_STREAM_ARN,
          TABLE_STREAM_ARNS.orders,
          TABLE_STREAM_ARNS.customers,
        ],
      );
      for (const mapping of mappings()) {
        assert.deepEqual(mapping.FunctionName, getAtt(STREAMS, 'Arn'));
        assert.deepEqual(mapping.FunctionResponseTypes, ['ReportBatchItemFailures']);
        assert.equal(mapping.BisectBatchOnFunctionError, true);
        assert.equal(mapping.MaximumRetryAttempts, 10);
        assert.equal(mapping.StartingPosition, 'TRIM_HORIZON');
        assert.deepEqual(mapping.DestinationConfig, {
          OnFailure: { Destination: getAtt('StreamsDeadLetterQueue', 'Arn') },
        });
      }
    });

    it("filters a table's changes to the event names its routes take, and not when one route takes every change", () => {
      const [, , orders, customers] = mappings();
      assert.deepEqual(orders?.FilterCriteria, {
        Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT', 'REMOVE'] }) }],
      });
      assert.equal(customers?.FilterCriteria, undefined);
      assert.equal(mappings()[0]?.FilterCriteria, undefined, 'Kinesis records are never filtered');
    });

    it('lets its role read the streams, send to its dead-letter queue and write its logs, nothing more', () => {
      const statements = statementsOf(deployed.streams.Resources.StreamsFunctionRole as never);
      assert.deepEqual(
        statements.map((statement) => [actionsOf(statement), statement.Resource]),
        [
          [['logs:CreateLogStream', 'logs:PutLogEvents'], getAtt('StreamsLogGroup', 'Arn')],
          [[...KINESIS_READ], [localStream('orders-stream'), CLICKS_STREAM_ARN]],
          [[...DYNAMODB_READ], [TABLE_STREAM_ARNS.orders, TABLE_STREAM_ARNS.customers]],
          [['sqs:SendMessage'], getAtt('StreamsDeadLetterQueue', 'Arn')],
          [['kms:GenerateDataKey'], KMS_KEY_ARN],
        ],
      );
    });

    it('keeps failed batches in an encrypted queue with an alarm, alarms on errors and a shard falling behind, and shows the function on the dashboard', () => {
      const queue = propertiesOf(deployed.streams, 'StreamsDeadLetterQueue');
      assert.equal(queue.KmsMasterKeyId, KMS_KEY_ARN);
      assert.equal(queue.MessageRetentionPeriod, 1209600);
      assert.deepEqual(propertiesOf(deployed.streams, 'StreamsDeadLetterQueueAlarm').Dimensions, [
        { Name: 'QueueName', Value: getAtt('StreamsDeadLetterQueue', 'QueueName') },
      ]);
      const alarmOf = (id: string) => propertiesOf(deployed.streams, id);
      for (const [id, metric] of [
        ['StreamsErrorsAlarm', 'Errors'],
        ['StreamsIteratorAgeAlarm', 'IteratorAge'],
      ] as const) {
        assert.equal(alarmOf(id).MetricName, metric);
        assert.deepEqual(alarmOf(id).Dimensions, [{ Name: 'FunctionName', Value: { Ref: STREAMS } }]);
      }
      assert.equal(alarmOf('StreamsIteratorAgeAlarm').Threshold, 300_000);
      const body = JSON.stringify(propertiesOf(deployed.streams, 'Dashboard').DashboardBody);
      assert.match(body, /"Ref":"StreamsLambdaFunction"/);
      assert.match(body, /StreamsDeadLetterQueue/);
    });

    it("refuses a DynamoDB route whose table's stream ARN is not given, naming the table and the parameter", () => {
      assert.match(
        failures.streamsNoArn,
        /DynamoDB table "orders": its stream ARN is not in the dynamodbStreamArns parameter/,
      );
      assert.match(failures.streamsNoArn, /DynamoDB table "customers"/);
      assert.doesNotMatch(failures.streamsNoArn, /Kinesis stream/, 'a Kinesis ARN is derived from its name');
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
      for (const variant of ['example', 'fifoJwt', 'added', 'streams'] as const) {
        // Deny statements (the deployment bucket's TLS-only policy) only take permissions away.
        const allowed = allStatements(deployed[variant]).filter(
          ([, statement]) => statement.Effect === 'Allow',
        );
        assert.ok(allowed.length >= 6);
        for (const [id, statement] of allowed) {
          // In a VPC, describing network interfaces takes "*": checked under "hardening".
          if (id === 'VpcNetworkInterfacesPolicy') continue;
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

    /** [resource, action, what] for every SQS permission but the dead-letter queue's own policy. */
    const sqsPermissions = (template: CloudFormationTemplate) =>
      allStatements(template)
        // The queue policies let the services deliver: their own tests check them.
        .filter(([id]) => !['EventsDeadLetterQueuePolicy', 'NotificationsDeadLetterQueuePolicy'].includes(id))
        .flatMap(([id, statement]) =>
          actionsOf(statement)
            .filter((action) => action.startsWith('sqs:'))
            .map((action) => [id, action, statement.Resource]),
        )
        .sort();

    it('lets the sqs function receive from exactly its queues, and only the eventbridge function and the schedules send to the dead-letter queue', () => {
      const consume = (queues: unknown) =>
        ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'].map((action) => [
          'SqsQueuesPolicy',
          action,
          queues,
        ]);
      const destination = [
        'EventbridgeFunctionRole',
        'sqs:SendMessage',
        getAtt('EventsDeadLetterQueue', 'Arn'),
      ];
      assert.deepEqual(sqsPermissions(deployed.example), [
        destination,
        ...consume([getAtt('OrdersQueue', 'Arn')]),
      ]);
      assert.deepEqual(sqsPermissions(deployed.fifoJwt), [
        destination,
        ...consume([getAtt('OrdersFifoQueue', 'Arn')]),
      ]);
      assert.deepEqual(sqsPermissions(deployed.added), [
        destination,
        ['SchedulerRole', 'sqs:SendMessage', getAtt('EventsDeadLetterQueue', 'Arn')],
        ...consume([getAtt('OrdersQueue', 'Arn'), getAtt('InvoicesQueue', 'Arn')]),
      ]);
      // The policy is the sqs function's, and the function (so each of its mappings) waits for it.
      assert.deepEqual(propertiesOf(deployed.added, 'SqsQueuesPolicy').RoleName, { Ref: ROLES.sqs });
      assert.ok(deployed.added.Resources[FUNCTIONS.sqs]?.DependsOn?.includes('SqsQueuesPolicy'));
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
      assert.deepEqual(secretStatements(deployed.added), []);
      for (const role of Object.values(ROLES)) {
        assert.deepEqual(propertiesOf(deployed.added, role).ManagedPolicyArns, []);
      }
    });

    it('lets only the http function read the webhook secrets, when some are named', () => {
      assert.deepEqual(
        secretStatements(deployed.fifoJwt)
          .filter(
            ([id, statement]) =>
              id !== 'TemporalSecretReadPolicy' &&
              actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
          )
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
    /** The alarms on what AWS measures; `ours` are those on the functions' own metrics. */
    const alarms = (template: CloudFormationTemplate) =>
      propertiesOfType(template, 'AWS::CloudWatch::Alarm').filter(({ Namespace }) =>
        String(Namespace).startsWith('AWS/'),
      );
    const ours = (template: CloudFormationTemplate) =>
      propertiesOfType(template, 'AWS::CloudWatch::Alarm').filter(
        ({ Namespace }) => !String(Namespace).startsWith('AWS/'),
      );
    const watched = (template: CloudFormationTemplate) =>
      alarms(template)
        .map((alarm) => {
          const [dimension] = alarm.Dimensions as { Value: unknown }[];
          const target = dimension?.Value as { Ref?: string; 'Fn::GetAtt'?: string[] };
          return `${alarm.MetricName} ${target.Ref ?? target['Fn::GetAtt']?.[0]}`;
        })
        .sort();

    it('watch every dead-letter queue, errors and throttles of every function, and 5xx answers', () => {
      const common = [
        'ApproximateNumberOfMessagesVisible EventsDeadLetterQueue',
        '5xx HttpApi',
        ...Object.values(FUNCTIONS).map((id) => `Errors ${id}`),
        ...Object.values(FUNCTIONS).map((id) => `Throttles ${id}`),
      ];
      assert.deepEqual(
        watched(deployed.example),
        [...common, 'ApproximateNumberOfMessagesVisible OrdersDeadLetterQueue'].sort(),
      );
      assert.deepEqual(
        watched(deployed.added),
        [
          ...common,
          'ApproximateNumberOfMessagesVisible OrdersDeadLetterQueue',
          'ApproximateNumberOfMessagesVisible InvoicesDeadLetterQueue',
          'ApproximateNumberOfMessagesVisible NotificationsDeadLetterQueue',
        ].sort(),
      );
      for (const alarm of [...alarms(deployed.example), ...alarms(deployed.added)]) {
        assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
        assert.equal(alarm.Threshold, 0);
        assert.equal(alarm.TreatMissingData, 'notBreaching');
        assert.equal(alarm.Period, 300);
      }
    });

    it("fire on transient failures and on a slow p99 start latency of the stack's own metrics, when it has them", () => {
      const byMetric = Object.fromEntries(ours(deployed.example).map((alarm) => [alarm.MetricName, alarm]));
      assert.deepEqual(Object.keys(byMetric).sort(), ['Failures', 'StartLatency']);
      const service = { Name: 'service', Value: 'temporal-triggers-dev' };
      assert.deepEqual(
        [byMetric.Failures?.Namespace, byMetric.Failures?.Dimensions, byMetric.Failures?.Statistic],
        ['TemporalTriggers', [service, { Name: 'permanent', Value: 'false' }], 'Sum'],
      );
      const latency = byMetric.StartLatency;
      assert.deepEqual(
        [latency?.Dimensions, latency?.ExtendedStatistic, latency?.Threshold, latency?.EvaluationPeriods],
        [[service], 'p99', '2000', 3],
      );
      for (const alarm of ours(deployed.example))
        assert.deepEqual(alarm.AlarmActions, [{ Ref: 'AlarmTopic' }]);
      // metrics=off: the functions publish none, and nothing alarms on them.
      assert.deepEqual(ours(deployed.fifoJwt), []);
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
      assert.equal(resourcesOfType(deployed.added, 'AWS::SNS::Topic').length, 0);
      for (const alarm of alarms(deployed.added)) assert.equal(alarm.AlarmActions, undefined);
    });

    it('that would notify nobody make packaging warn loudly on stderr, and packaging still succeeds', () => {
      const warning = stderr.added.split('\n').filter((line) => line.startsWith('!!'));
      assert.match(stderr.added, ALARM_WARNING);
      assert.ok(warning.length >= 5, `a banner, not one line:\n${stderr.added}`);
      assert.match(stderr.added, /alarmEmail/);
      assert.match(stderr.added, /alarmTopicArn/);
      for (const variant of ['example', 'fifoJwt'] as const) {
        assert.doesNotMatch(stderr[variant], ALARM_WARNING, variant);
      }
    });
  });

  describe('dashboard', () => {
    /** The dashboard's body, with each name Fn::Join puts in written as `<Ref X>` or `<X.QueueName>`. */
    const dashboardOf = (template: CloudFormationTemplate) => {
      const [id] = only(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'), 'dashboard');
      const body = propertiesOf(template, id).DashboardBody as { 'Fn::Join': [string, unknown[]] };
      const [separator, parts] = body['Fn::Join'];
      const text = parts
        .map((part) => {
          if (typeof part === 'string') return part;
          const { Ref, 'Fn::GetAtt': getAtt } = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
          return Ref === undefined ? `<${getAtt?.join('.')}>` : `<Ref ${Ref}>`;
        })
        .join(separator);
      return JSON.parse(text) as {
        widgets: { width: number; properties: { title: string; region: string; metrics: unknown[][] } }[];
      };
    };
    const metricsOf = (template: CloudFormationTemplate, title: RegExp) =>
      dashboardOf(template).widgets.find((widget) => title.test(widget.properties.title))?.properties.metrics;

    it("shows the stack's actions, failures, latency, batches and cold starts in its metrics namespace", () => {
      const service = ['service', 'temporal-triggers-dev'];
      assert.deepEqual(metricsOf(deployed.example, /actions by outcome/), [
        ['TemporalTriggers', 'Actions', ...service, 'outcome', 'started'],
        ['TemporalTriggers', 'Actions', ...service, 'outcome', 'existing'],
        ['TemporalTriggers', 'Actions', ...service, 'outcome', 'signalled'],
        ['TemporalTriggers', 'Actions', ...service, 'outcome', 'updated'],
      ]);
      assert.deepEqual(metricsOf(deployed.example, /^Failures/), [
        ['TemporalTriggers', 'Failures', ...service, 'permanent', 'false'],
        ['TemporalTriggers', 'Failures', ...service, 'permanent', 'true'],
      ]);
      assert.deepEqual(
        metricsOf(deployed.example, /latency/)?.map((metric) => metric.at(-1)),
        [
          { stat: 'p50', label: 'p50' },
          { stat: 'p99', label: 'p99' },
        ],
      );
      assert.deepEqual(
        metricsOf(deployed.example, /Cold starts/)?.map((metric) => metric.at(-1)),
        Object.values(FUNCTIONS).map((id) => `<Ref ${id}>`),
      );
      assert.equal(metricsOf(deployed.fifoJwt, /actions by outcome/)?.[0]?.[0], 'Shop');
      for (const { properties } of dashboardOf(deployed.example).widgets) {
        assert.equal(properties.region, '<Ref AWS::Region>');
      }
    });

    it('shows the depth of every dead-letter queue, and the throttles of every function', () => {
      const queues = (template: CloudFormationTemplate) =>
        metricsOf(template, /Dead-letter/)
          ?.map((metric) => metric.at(-1))
          .sort();
      assert.deepEqual(queues(deployed.example), [
        '<EventsDeadLetterQueue.QueueName>',
        '<OrdersDeadLetterQueue.QueueName>',
      ]);
      assert.deepEqual(queues(deployed.added), [
        '<EventsDeadLetterQueue.QueueName>',
        '<InvoicesDeadLetterQueue.QueueName>',
        '<NotificationsDeadLetterQueue.QueueName>',
        '<OrdersDeadLetterQueue.QueueName>',
      ]);
      assert.deepEqual(
        metricsOf(deployed.example, /Throttles/),
        Object.values(FUNCTIONS).map((id) => ['AWS/Lambda', 'Throttles', 'FunctionName', `<Ref ${id}>`]),
      );
    });
  });

  describe('hardening', () => {
    const ALL_FUNCTIONS = Object.values(FUNCTIONS);
    const managedPolicies = (template: CloudFormationTemplate, role: string) =>
      (propertiesOf(template, role).ManagedPolicyArns as { Ref: string }[] | undefined)?.map(
        ({ Ref }) => Ref,
      ) ?? [];

    it('runs no function in a VPC by default, and every function in the subnets and security groups given', () => {
      for (const fn of ALL_FUNCTIONS) {
        assert.equal(propertiesOf(deployed.added, fn).VpcConfig, undefined, fn);
        assert.deepEqual(propertiesOf(deployed.fifoJwt, fn).VpcConfig, {
          SubnetIds: { 'Fn::Split': [',', SUBNETS.join(',')] },
          SecurityGroupIds: { 'Fn::Split': [',', SECURITY_GROUPS.join(',')] },
        });
      }
      assert.equal(deployed.added.Resources.VpcNetworkInterfacesPolicy, undefined);
      assert.match(failures.vpcHalf, /vpcSubnetIds and vpcSecurityGroupIds go together/);
    });

    it('lets a function in a VPC manage network interfaces of its account and region only, describing aside', () => {
      const statements = statementsOf(
        deployed.fifoJwt.Resources.VpcNetworkInterfacesPolicy as CloudFormationResource,
      );
      const wildcard = statements.filter((statement) => statement.Resource === '*');
      assert.deepEqual(
        wildcard.flatMap((statement) => statement.Action),
        ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
      );
      for (const statement of statements.filter((item) => item.Resource !== '*')) {
        for (const resource of [statement.Resource].flat()) {
          assert.match(
            JSON.stringify(resource),
            /arn:\$\{AWS::Partition\}:ec2:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(network-interface|subnet|security-group)\/\*/,
          );
        }
      }
      for (const role of Object.values(ROLES)) {
        assert.ok(managedPolicies(deployed.fifoJwt, role).includes('VpcNetworkInterfacesPolicy'), role);
        assert.ok(!managedPolicies(deployed.added, role).includes('VpcNetworkInterfacesPolicy'), role);
      }
    });

    it('logs every HTTP API request as JSON in its own log group, with the IDs the function logs', () => {
      for (const variant of ['example', 'added', 'fifoJwt'] as const) {
        const { AccessLogSettings } = propertiesOf(deployed[variant], 'HttpApiStage') as {
          AccessLogSettings: { DestinationArn: unknown; Format: string };
        };
        assert.deepEqual(AccessLogSettings.DestinationArn, { 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
        const format = JSON.parse(AccessLogSettings.Format) as Record<string, string>;
        assert.equal(format.requestId, '$context.requestId');
        assert.equal(format.lambdaRequestId, '$context.integration.requestId');
        assert.equal(format.status, '$context.status');
        assert.equal(propertiesOf(deployed[variant], 'HttpApiLogGroup').RetentionInDays, 30);
      }
    });

    it('uploads to a deployment bucket that blocks public access and keeps versions', () => {
      const bucket = propertiesOf(deployed.added, 'ServerlessDeploymentBucket');
      assert.deepEqual(bucket.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      assert.deepEqual(bucket.VersioningConfiguration, { Status: 'Enabled' });
    });

    it('states the encryption of every queue: SQS managed by default, the customer key when given', () => {
      for (const [variant, key] of [
        ['added', undefined],
        ['fifoJwt', KMS_KEY_ARN],
      ] as const) {
        const queues = propertiesOfType(deployed[variant], 'AWS::SQS::Queue');
        assert.ok(queues.length >= 3, variant);
        for (const queue of queues) {
          assert.equal(queue.SqsManagedSseEnabled, key === undefined, `${variant} ${queue.QueueName}`);
          assert.equal(queue.KmsMasterKeyId, key, `${variant} ${queue.QueueName}`);
        }
      }
    });

    it("encrypts the log groups and the functions' environment with the customer key when given, and lets the roles use it", () => {
      const logGroups = [
        ...ALL_FUNCTIONS.map((fn) => fn.replace('LambdaFunction', 'LogGroup')),
        'HttpApiLogGroup',
      ];
      for (const group of logGroups) {
        assert.equal(propertiesOf(deployed.added, group).KmsKeyId, undefined, group);
        assert.equal(propertiesOf(deployed.fifoJwt, group).KmsKeyId, KMS_KEY_ARN, group);
      }
      for (const fn of ALL_FUNCTIONS) {
        assert.equal(propertiesOf(deployed.added, fn).KmsKeyArn, undefined, fn);
        assert.equal(propertiesOf(deployed.fifoJwt, fn).KmsKeyArn, KMS_KEY_ARN, fn);
      }
      for (const role of Object.values(ROLES)) {
        assert.ok(managedPolicies(deployed.fifoJwt, role).includes('KmsKeyUsePolicy'), role);
        assert.ok(!managedPolicies(deployed.added, role).includes('KmsKeyUsePolicy'), role);
      }
      const keyUse = allStatements(deployed.fifoJwt).filter(([, statement]) =>
        JSON.stringify(statement.Resource).includes(KMS_KEY_ARN),
      );
      assert.deepEqual(
        keyUse.map(([id, statement]) => `${id} ${[statement.Action].flat().join(',')}`).sort(),
        ['EventbridgeFunctionRole kms:GenerateDataKey', 'KmsKeyUsePolicy kms:Decrypt'],
      );
      assert.equal(
        allStatements(deployed.added).filter(([, statement]) => JSON.stringify(statement).includes('kms:'))
          .length,
        0,
      );
      // Scheduler sends to the dead-letter queue with its role: with the key, it takes the key too.
      const schedulerPolicies = JSON.stringify(
        (raw.added.Resources.SchedulerRole as CloudFormationResource).Properties?.Policies,
      );
      assert.match(
        schedulerPolicies,
        /\{"Fn::If":\["HasKmsKey",\{"PolicyName":"dead-letters-key".*"kms:GenerateDataKey","kms:Decrypt"\],"Resource":\{"Ref":"KmsKeyArn"\}/,
      );
    });
  });

  describe('checkov', () => {
    it('fails no check on the default template, nor with a VPC and a customer key, but those infra/checkov.yaml skips with a reason', async () => {
      const { code, output } = await scanTemplates([files.added, files.fifoJwt, files.streams]);
      assert.equal(code, 0, output);
      assert.match(output, /Passed checks: \d+, Failed checks: 0/);
      const config = readFileSync(join(ROOT, 'infra', 'checkov.yaml'), 'utf8');
      const skipped = [...config.matchAll(/^ {2}- (CKV_\w+)$/gm)];
      for (const match of skipped) {
        const before = config.slice(0, match.index).trimEnd().split('\n').at(-1) ?? '';
        assert.match(before, /^ {2}# \S/, `${match[1]} has a reason above it`);
      }
    });
  });

  describe('cfn-lint', () => {
    /** The templates each finding of cfn-lint's output points into. */
    const findingFiles = (output: string) =>
      new Set(output.split('\n').flatMap((line) => /^(.+\.json):\d+:\d+$/.exec(line)?.[1] ?? []));

    it('finds nothing in the templates, whichever optional parts are on', async () => {
      const { output } = await lint;
      assert.deepEqual([...findingFiles(output)], [files.secretName], output);
    });

    it('rejects a secret name where its ARN belongs', async () => {
      assert.equal(conditionHolds(raw.secretName, 'HasTemporalSecret'), true);
      const { code, output } = await lint;
      assert.notEqual(code & 2, 0, output);
      assert.match(output, /E2015/);
    });
  });
});

describe('derive', () => {
  const settings: DeploymentSettings = {
    eventBusName: 'bus',
    authorizer: { type: 'aws_iam' },
    corsAllowOrigins: '',
    sqsTimeoutSeconds: 30,
    alarmActions: [],
    metrics: { namespace: 'TemporalTriggers', service: 'svc' },
  };
  const streams = { kinesisStreamArns: [], dynamodbStreamArns: [], startingPosition: 'LATEST' };
  const file = (...routes: object[]) =>
    ({
      workflows: { run: { taskQueue: 'q' } },
      routes: routes.map((route, index) => ({ name: `r${index}`, workflowType: 'run', ...route })),
    }) as RoutesFile;
  const problemsOf = (routes: RoutesFile, options: Partial<DeploymentSettings> = {}): string => {
    try {
      derive(routes, { ...settings, ...options });
    } catch (error) {
      assert.ok(error instanceof DeploymentError);
      return error.message;
    }
    assert.fail('derive did not fail');
  };

  it('refuses what no EventBridge pattern or rule can express, naming the route', () => {
    const message = problemsOf(
      file(
        { eventbridge: { source: 's', detailType: 't', detail: { tags: ['a', 'b'], meta: {} } } },
        { schedule: { rule: 'once', expression: 'at(2027-01-01T00:00:00)' } },
      ),
    );
    assert.match(message, /route "r0": detail\.tags is an array/);
    assert.match(message, /route "r0": detail\.meta is an empty object/);
    assert.match(message, /schedule rule "once": .*at\(\.\.\.\) needs a scheduler route/);
  });

  it('refuses names AWS refuses, and a name that would take a logical ID the stack uses', () => {
    const message = problemsOf(
      file(
        { sqs: { queue: 'orders.v2' } },
        { sqs: { queue: 'events' } },
        { schedule: { rule: 'nightly report', expression: 'rate(1 day)' } },
      ),
    );
    assert.match(message, /queue "orders\.v2": an SQS queue name holds letters, digits/);
    assert.match(message, /queue "events": its logical ID EventsDeadLetterQueue is taken by the stack/);
    assert.match(message, /"nightly report" names an EventBridge rule/);
  });

  it('refuses one name given two meanings, and takes the same one twice', () => {
    const message = problemsOf(
      file(
        { schedule: { rule: 'nightly', expression: 'rate(1 day)' } },
        { schedule: { rule: 'nightly', expression: 'rate(2 days)' } },
        { http: { method: 'POST', path: '/hooks/a' } },
        { http: { method: 'POST', path: '/hooks/a', signature: { scheme: 'github', secret: { env: 'S' } } } },
      ),
    );
    assert.match(message, /route "r1" and route "r0" name the same schedule rule nightly differently/);
    assert.match(message, /route "r3" and route "r2" name the same HTTP route POST \/hooks\/a differently/);
    const twice = derive(
      file({ sqs: { queue: 'q', attributes: { a: '1' } } }, { sqs: { queue: 'q', attributes: { a: '2' } } }),
      settings,
    );
    assert.equal(twice.sqsEvents.length, 1);
  });

  it('refuses a stream ARN that is none, and a starting position Lambda does not take', () => {
    const message = problemsOf(file({ kinesis: { stream: 's' } }, { dynamodb: { table: 'orders' } }), {
      streams: {
        ...streams,
        kinesisStreamArns: ['arn:aws:kinesis:us-east-1:123456789012:s'],
        dynamodbStreamArns: ['arn:aws:dynamodb:us-east-1:123456789012:table/orders'],
        startingPosition: 'AT_TIMESTAMP',
      },
    });
    assert.match(
      message,
      /kinesisStreamArns: "arn:aws:kinesis:us-east-1:123456789012:s" is not the ARN of a stream/,
    );
    assert.match(message, /dynamodbStreamArns: "arn:aws:dynamodb:[^"]+" is not the ARN of a stream/);
    assert.match(message, /streamsStartingPosition: "AT_TIMESTAMP" is not LATEST or TRIM_HORIZON/);
  });

  it('derives no queue policy, rule policy, scheduler role or streams function when nothing needs one', () => {
    const { resources, sqsEvents, streamsFunction } = derive(
      file({ http: { method: 'GET', path: '/x' } }),
      settings,
    );
    assert.deepEqual(sqsEvents, []);
    assert.equal(streamsFunction, null);
    assert.deepEqual(Object.keys(resources.Resources), ['BusEventBridgeEventBus', 'Dashboard']);
    assert.deepEqual(resources.extensions, {});
  });

  it('routes GET /openapi.json with the authorizer when the document is served, and refuses a route of the file there', () => {
    const routes = (options: Partial<DeploymentSettings>) =>
      derive(file({ http: { method: 'POST', path: '/openapi.json' } }), {
        ...settings,
        ...options,
      }).httpEvents.map(({ httpApi }) => httpApi);
    assert.deepEqual(routes({ openapi: true })[2], {
      method: 'GET',
      path: '/openapi.json',
      authorizer: settings.authorizer,
    });
    assert.equal(routes({}).length, 3, 'the workflow API and the route');
    assert.match(
      problemsOf(file({ http: { method: 'GET', path: '/openapi.json' } }), { openapi: true }),
      /route "r0": GET \/openapi\.json serves the OpenAPI document \(httpOpenapi is on\)/,
    );
  });

  it("checks corsAllowOrigins with the function's rule", () => {
    assert.match(
      problemsOf(file(), { corsAllowOrigins: 'https://a.example.com,http://*.example.com' }),
      /corsAllowOrigins: "http:\/\/\*\.example\.com" is not an allowed origin/,
    );
    assert.doesNotThrow(() => derive(file(), { ...settings, corsAllowOrigins: '*' }));
  });
});
