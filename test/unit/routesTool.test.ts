import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { DynamoDBStreamEvent, KinesisStreamEvent, S3Event, SNSEvent, SQSEvent } from 'aws-lambda';
import type { Routes } from '#lib/routes/model.ts';
import { TRIGGERS } from '#lib/routes/triggers.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { checkRoutes, problemLines } from '../../scripts/routesCheck.ts';
import { type Explanation, explainEvent, sourceOf, succeeded } from '../../scripts/routesExplain.ts';
import { formatCheck, formatExplanations } from '../../scripts/routesOutput.ts';
import { eventBridgeEvent, fixture, httpEvent, sqsEvent, sqsRecord } from '../helpers/events.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EVENTS = join(ROOT, 'test', 'events');
const MAX_BODY_BYTES = 1024 * 1024;

const readJson = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
const compiled = (path: string): Routes => compileRoutes(readJson(path), path, undefined);
const example = compiled('routes.json');
const contract = compiled('test/routes/contract.json');

const explain = (routes: Routes, event: unknown): Explanation[] => {
  const source = sourceOf(event);
  assert.ok(source !== undefined, 'a shape the functions take');
  return explainEvent(routes, source, event, { maxBodyBytes: MAX_BODY_BYTES, openapi: false });
};

const explainOne = (routes: Routes, event: unknown): Explanation => {
  const [explanation, ...more] = explain(routes, event);
  assert.ok(explanation !== undefined && more.length === 0);
  return explanation;
};

/** What a test asserts of an explanation: the match, the route, the request's ID and action, the failure. */
interface Outcome {
  readonly match: Explanation['match'];
  readonly route?: string;
  readonly workflowId?: string;
  readonly action?: string;
  readonly failure?: string;
}

const outcomeOf = ({ match, route, request, error }: Explanation): Outcome =>
  JSON.parse(
    JSON.stringify({
      match,
      route: route?.name,
      workflowId: request?.workflowId,
      action: request?.action,
      failure: error?.name,
    }),
  );

const started = (route: string, workflowId: string): Outcome => ({
  match: 'route',
  route,
  workflowId,
  action: 'start',
});
const canonical = (workflowId: string): Outcome => ({ match: 'envelope', workflowId, action: 'start' });

/**
 * Each fixture, with the routes file its tests use, and what explain says of each of its events. A
 * fixture added without an entry here is still explained: it must then match and normalize against
 * routes.json or test/routes/contract.json.
 */
const FIXTURES: Readonly<Record<string, { routes: string; outcomes: readonly Outcome[] }>> = {
  'eventbridge/order-placed.json': {
    routes: 'routes.json',
    outcomes: [started('order-events', 'order-3001')],
  },
  'eventbridge/scheduled.json': {
    routes: 'routes.json',
    outcomes: [started('nightly', 'nightly-2026-11-29T02:00:00Z')],
  },
  'eventbridge/scheduler-default.json': {
    routes: 'test/routes/contract.json',
    outcomes: [started('hourly-sync', 'nightlyReport-ops-hourly-sync-2026-11-29T03:00:00Z')],
  },
  'eventbridge/scheduler-envelope.json': {
    routes: 'routes.json',
    outcomes: [canonical('nightly-report-2026-11-29T02:00:00Z')],
  },
  'eventbridge/scheduler-templated.json': {
    routes: 'test/routes/contract.json',
    outcomes: [started('hourly-sync', 'nightlyReport-ops-hourly-sync-2026-11-29T03:00:00Z')],
  },
  // An ALB gives no request ID: without an Idempotency-Key the envelope has no ID to derive (422).
  'http/alb-multi-value-post.json': {
    routes: 'routes.json',
    outcomes: [started('orders-api', 'order-1001')],
  },
  'http/function-url-post.json': { routes: 'routes.json', outcomes: [started('orders-api', 'order-1001')] },
  'http/alb-post.json': {
    routes: 'routes.json',
    outcomes: [{ match: 'envelope', failure: 'ValidationError' }],
  },
  'http/v1-post-order.json': { routes: 'routes.json', outcomes: [started('orders-api', 'order-1001')] },
  'http/v2-canonical.json': { routes: 'routes.json', outcomes: [canonical('processOrder-checkout-7f3a')] },
  'http/v2-post-order.json': { routes: 'routes.json', outcomes: [started('orders-api', 'order-1001')] },
  'sqs/orders-batch.json': {
    routes: 'routes.json',
    outcomes: [
      started('orders-queue', 'order-2001'),
      canonical('processOrder-2e1424d4-f796-459a-8184-9c92662be6da'),
      { match: 'none', failure: 'WorkflowNotAllowedError' },
    ],
  },
  'sqs/traced-order.json': { routes: 'routes.json', outcomes: [started('orders-queue', 'order-2002')] },
  'kinesis/orders-batch.json': {
    routes: 'test/routes/contract.json',
    outcomes: [started('orders-stream', 'order-2001'), started('orders-stream', 'order-2002')],
  },
  'dynamodb/orders-changes.json': {
    routes: 'test/routes/contract.json',
    outcomes: [
      started('orders-created', 'order-created-2001'),
      started('orders-changed', 'processOrder-c81e728d9d4c2f636f067f89cc14862c'),
      started('orders-changed', 'processOrder-eccbc87e4b5ce2fe28308fd9f2a7baf3'),
    ],
  },
  'sns/order-message.json': {
    routes: 'test/routes/contract.json',
    outcomes: [started('order-notifications', 'order-3001')],
  },
  's3/object-created.json': {
    routes: 'test/routes/contract.json',
    outcomes: [
      started(
        'invoice-uploads',
        'processOrder-invoices-incoming/March 2026/invoice #1.pdf-0055AED6DCD90281E5',
      ),
    ],
  },
  // Sent when a notification configuration is saved: acknowledged, nothing started.
  's3/test-event.json': { routes: 'test/routes/contract.json', outcomes: [{ match: 'acknowledged' }] },
};

const fixtures = readdirSync(EVENTS, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.split('\\').join('/'))
  .sort();

describe('explain, on every fixture under test/events/', () => {
  it('finds the fixtures', () => {
    assert.ok(fixtures.length >= Object.keys(FIXTURES).length, fixtures.join(', '));
  });

  for (const name of fixtures) {
    it(`explains ${name} as the function would take it`, () => {
      const event = fixture<unknown>(name);
      const expected = FIXTURES[name];
      if (expected === undefined) {
        const fits = ['routes.json', 'test/routes/contract.json'].filter((routes) =>
          explain(compiled(routes), event).every(succeeded),
        );
        assert.ok(fits.length > 0, `${name} matches nothing: add it to FIXTURES with its outcome`);
        return;
      }
      const explanations = explain(compiled(expected.routes), event);
      assert.deepEqual(explanations.map(outcomeOf), expected.outcomes);
      for (const { route, request } of explanations) {
        // The route explain names is the one the function's own normalizing chose.
        if (request !== undefined) assert.equal(request.route, route?.name ?? 'canonical');
      }
    });
  }

  it('shows the whole request: task queue, policies, options, signal and update', () => {
    const { request } = explainOne(example, httpEvent({ path: '/carts/c-1/count', body: { sku: 'lamp' } }));
    assert.deepEqual(request?.update, {
      name: 'addItemAndCount',
      args: [{ sku: 'lamp' }],
      waitFor: 'accepted',
    });
    assert.equal(request?.taskQueue, 'carts');
    assert.equal(request?.idReusePolicy, 'REJECT_DUPLICATE');
    assert.deepEqual(request?.options, { staticSummary: 'A shopping cart' });
  });

  it('says a status request starts nothing', () => {
    const explanation = explainOne(example, httpEvent({ method: 'GET', path: '/workflows/order-1' }));
    assert.deepEqual(
      { match: explanation.match, workflowId: explanation.workflowId, ok: succeeded(explanation) },
      { match: 'status', workflowId: 'order-1', ok: true },
    );
  });

  it('says GET /openapi.json serves the document when HTTP_OPENAPI is on, and matches no route when off', () => {
    const event = httpEvent({ method: 'GET', path: '/openapi.json' });
    const [served] = explainEvent(example, 'http', event, { maxBodyBytes: MAX_BODY_BYTES, openapi: true });
    assert.equal(served?.match, 'openapi');
    assert.equal(served !== undefined && succeeded(served), true);
    assert.match(
      formatExplanations('http', [served as Explanation]),
      /GET \/openapi\.json: the HTTP API's OpenAPI document/,
    );
    assert.equal(explainOne(example, event).match, 'none');
  });
});

describe('explain, when nothing matches', () => {
  const met = (name: string, value: unknown) => ({ name, expected: value, actual: value, met: true });
  const unmet = (name: string, expected: unknown, actual: unknown) => ({
    name,
    expected,
    actual,
    met: false,
  });
  const conditionsOf = ({ nearest }: Explanation, index = 0) =>
    nearest?.[index]?.conditions.map(({ name, expected, actual, met }) => ({ name, expected, actual, met }));

  it('names the nearest HTTP routes and the path they failed', () => {
    const explanation = explainOne(example, httpEvent({ path: '/order/acme', body: {} }));

    assert.equal(explanation.match, 'none');
    assert.equal(explanation.error?.name, 'NoRouteError');
    assert.equal(explanation.nearest?.[0]?.name, 'orders-api');
    assert.deepEqual(conditionsOf(explanation), [
      unmet('path', '/orders/{tenant}', '/order/acme'),
      met('method', 'POST'),
    ]);
  });

  it('ranks the route whose path matches first when the method is wrong (405)', () => {
    const explanation = explainOne(example, httpEvent({ method: 'GET', path: '/orders/acme' }));

    assert.deepEqual(
      [explanation.error?.name, explanation.error?.statusCode, explanation.error?.fields],
      ['MethodNotAllowedError', 405, { allow: ['POST'] }],
    );
    assert.deepEqual(
      explanation.nearest?.map(({ name, met }) => [name, met]),
      [
        ['orders-api', 1],
        ['cart-items', 0],
        ['cart-count', 0],
      ],
    );
    assert.deepEqual(conditionsOf(explanation)?.[1], unmet('method', 'POST', 'GET'));
  });

  it('names each SQS message attribute a route asks for and the record lacks', () => {
    const missing = explainOne(example, sqsEvent(sqsRecord({ orderId: '1' }, { attributes: {} })));
    const other = explainOne(
      example,
      sqsEvent(sqsRecord({ orderId: '1' }, { attributes: { kind: 'refund' } })),
    );

    assert.equal(missing.error?.name, 'NoRouteError');
    assert.deepEqual(conditionsOf(missing), [
      met('queue', 'orders'),
      unmet('attribute kind', 'order', undefined),
    ]);
    assert.equal(conditionsOf(other)?.[1]?.actual, 'refund');
  });

  it('explains each record of a batch on its own', () => {
    const explanations = explain(
      example,
      sqsEvent(sqsRecord({ orderId: '1' }), sqsRecord({ orderId: '2' }, { queue: 'refunds' })),
    );

    assert.deepEqual(explanations.map(succeeded), [true, false]);
    assert.deepEqual(conditionsOf(explanations[1] as Explanation)?.[0], unmet('queue', 'orders', 'refunds'));
  });

  it('names the EventBridge source, detail-type and detail fields a route asks for', () => {
    const shipped = explainOne(
      example,
      eventBridgeEvent({ orderId: '1' }, { 'detail-type': 'OrderShipped' }),
    );
    const pending = explainOne(
      contract,
      eventBridgeEvent({ status: 'pending' }, { 'detail-type': 'OrderStatusChanged' }),
    );

    assert.deepEqual(conditionsOf(shipped), [
      met('source', 'com.example.shop'),
      unmet('detail-type', 'OrderPlaced', 'OrderShipped'),
    ]);
    assert.equal(pending.nearest?.[0]?.name, 'paid-orders');
    assert.deepEqual(conditionsOf(pending)?.[2], unmet('detail.status', 'paid', 'pending'));
  });

  it('names the rule of a scheduled event, and the name and group of a Scheduler tick', () => {
    const tick = fixture<Record<string, unknown>>('eventbridge/scheduled.json');
    tick.resources = ['arn:aws:events:us-east-1:123456789012:rule/unknown'];
    const scheduler = fixture<Record<string, unknown>>('eventbridge/scheduler-default.json');
    scheduler.resources = ['arn:aws:scheduler:us-east-1:123456789012:schedule/ops/weekly-sync'];

    const rule = explainOne(example, tick);
    const schedule = explainOne(contract, scheduler);

    assert.deepEqual([rule.trigger, rule.error?.name], ['schedule', 'NoRouteError']);
    assert.deepEqual(conditionsOf(rule), [unmet('rule', 'nightly-report', ['unknown'])]);
    assert.deepEqual(conditionsOf(schedule), [
      unmet('name', 'hourly-sync', 'weekly-sync'),
      met('group', 'ops'),
    ]);
  });

  it('names the SNS topic and message attributes, and the S3 bucket, key and event names a route asks for', () => {
    const message = fixture<SNSEvent>('sns/order-message.json');
    delete message.Records[0]?.Sns.MessageAttributes.kind;
    const upload = fixture<S3Event>('s3/object-created.json');
    for (const record of upload.Records) record.s3.object.key = 'incoming/invoice.txt';

    assert.deepEqual(conditionsOf(explainOne(contract, message)), [
      met('topic', 'orders'),
      unmet('attribute kind', 'order', undefined),
    ]);
    assert.deepEqual(conditionsOf(explainOne(contract, upload)), [
      met('bucket', 'invoices'),
      { name: 'key prefix', expected: 'incoming/', actual: 'incoming/invoice.txt', met: true },
      unmet('key suffix', '.pdf', 'incoming/invoice.txt'),
      { name: 'event', expected: ['ObjectCreated:*'], actual: 'ObjectCreated:Put', met: true },
    ]);
  });

  it('names the Kinesis stream, and the DynamoDB table and event names, a route asks for', () => {
    const stream = fixture<KinesisStreamEvent>('kinesis/orders-batch.json');
    stream.Records = stream.Records.slice(0, 1).map((record) => ({
      ...record,
      eventSourceARN: 'arn:aws:kinesis:us-east-2:123456789012:stream/refunds',
    }));
    const changes = fixture<DynamoDBStreamEvent>('dynamodb/orders-changes.json');
    changes.Records = changes.Records.slice(0, 1).map((record) => ({
      ...record,
      eventSourceARN: 'arn:aws:dynamodb:us-west-2:123456789012:table/carts/stream/2015-06-27T00:48:05.899',
    }));

    const kinesis = explainOne(contract, stream);
    const dynamodb = explainOne(contract, changes);

    assert.deepEqual(
      kinesis.nearest?.map(({ name }) => name),
      ['orders-stream', 'clicks-stream'],
    );
    assert.deepEqual(conditionsOf(kinesis), [unmet('stream', 'orders-stream', 'refunds')]);
    assert.deepEqual(conditionsOf(dynamodb), [unmet('table', 'orders', 'carts'), met('event', 'INSERT')]);
  });

  it('says when the routes file has no route of the trigger at all', () => {
    const explanation = explainOne(example, fixture('eventbridge/scheduler-default.json'));
    assert.deepEqual(explanation.nearest, []);
    assert.match(formatExplanations('eventbridge', [explanation]), /the routes file has no scheduler routes/);
  });
});

describe('explain, when normalizing fails', () => {
  it('gives the error of a missing template path, with its route and path', () => {
    const explanation = explainOne(example, httpEvent({ path: '/orders/acme', body: { sku: 'lamp' } }));

    assert.equal(explanation.route?.name, 'orders-api');
    assert.deepEqual(explanation.error, {
      name: 'TemplateError',
      message: 'Route "orders-api": the path "body.orderId" is missing from the event',
      statusCode: 422,
      permanent: true,
      fields: { route: 'orders-api', path: 'body.orderId' },
    });
    assert.equal(succeeded(explanation), false);
  });

  it('gives the error of a type outside the allow-list', () => {
    const record = sqsRecord({}, { attributes: { workflowType: 'dropTables' } });
    const explanation = explainOne(example, sqsEvent(record));
    assert.deepEqual(explanation.error?.fields, { workflowType: 'dropTables' });
  });

  it('gives each violation of the input schema', () => {
    const routes = compiled('test/routes/input-schemas.json');
    const explanation = explainOne(
      routes,
      httpEvent({ path: '/orders', body: { orderId: 'AB-1', quantity: 0 } }),
    );

    assert.equal(explanation.route?.name, 'orders-api');
    assert.equal(explanation.error?.name, 'InputSchemaError');
    assert.deepEqual(explanation.error?.fields, {
      violations: [{ in: 'body', pointer: '/quantity', detail: 'must be >= 1' }],
    });
    assert.match(
      formatExplanations('http', [explanation]),
      /\n {6}violations:\n {8}- \{"in":"body","pointer":"\/quantity","detail":"must be >= 1"\}\n/,
    );
  });

  it('checks the body as the function does, before the templates', () => {
    const event = httpEvent({ path: '/orders/acme', body: 'a=1', headers: { 'content-type': 'text/plain' } });
    assert.equal(explainOne(example, event).error?.name, 'UnsupportedMediaTypeError');
  });

  it('says a route requires a signature, and builds its request without verifying it or reading a secret', () => {
    const event = httpEvent({
      path: '/webhooks/github',
      body: { ref: 'main' },
      headers: { 'x-github-delivery': 'd-1' },
    });
    const explanation = explainOne(contract, event);

    assert.deepEqual(explanation.signature, {
      scheme: 'github',
      header: 'x-hub-signature-256',
      present: false,
      verified: false,
    });
    assert.equal(explanation.request?.workflowId, 'github-d-1');
    assert.match(
      formatExplanations('http', [explanation]),
      /requires a github signature in header x-hub-signature-256 .*does not verify it and reads no secret/,
    );
  });
});

describe('sourceOf', () => {
  it('tells the functions apart by shape, and takes nothing else', () => {
    assert.equal(sourceOf(httpEvent({ path: '/x' })), 'http');
    assert.equal(sourceOf(fixture('http/v1-post-order.json')), 'http');
    assert.equal(sourceOf(fixture<SQSEvent>('sqs/orders-batch.json')), 'sqs');
    assert.equal(sourceOf(fixture('kinesis/orders-batch.json')), 'kinesis');
    assert.equal(sourceOf(fixture('dynamodb/orders-changes.json')), 'dynamodb');
    assert.equal(sourceOf(fixture('sns/order-message.json')), 'sns');
    assert.equal(sourceOf(fixture('s3/object-created.json')), 's3');
    assert.equal(sourceOf(fixture('s3/test-event.json')), 's3-test');
    assert.equal(sourceOf(fixture('eventbridge/scheduler-templated.json')), 'eventbridge');
    assert.equal(sourceOf({ workflowType: 'processOrder', workflowId: 'x' }), 'eventbridge');
    for (const other of [
      { hello: 'world' },
      [],
      'text',
      { Records: [] },
      { Records: [{ eventSource: 'aws:kafka' }] },
      { Records: [{ eventSource: 'aws:sqs' }, { eventSource: 'aws:kinesis' }] },
    ]) {
      assert.equal(sourceOf(other), undefined, JSON.stringify(other));
    }
  });
});

describe('check', () => {
  const problemsOf = (raw: unknown) => checkRoutes(raw, 'test.json', undefined).problems;
  type RoutesFile = { workflows: Record<string, unknown>; routes: Record<string, unknown>[] };
  const edited = (edit: (raw: RoutesFile) => void) => {
    const raw = readJson('routes.json') as RoutesFile;
    edit(raw);
    return raw;
  };

  const good = [
    'routes.json',
    ...readdirSync(join(ROOT, 'test', 'routes')).map((file) => `test/routes/${file}`),
  ];
  /** The warnings a good file is meant to have: the OpenAPI fixture hides a route on purpose. */
  const expectedWarnings: Readonly<Record<string, readonly string[]>> = {
    'test/routes/openapi.json': [
      'route "orders-api-shadowed" never matches: route "orders-api" comes first and matches every http event it would',
    ],
  };
  for (const file of good) {
    it(`passes ${file}, with only the warnings it is meant to have`, () => {
      const { problems, warnings, routes } = checkRoutes(readJson(file), file, undefined);
      assert.deepEqual({ problems, warnings }, { problems: [], warnings: expectedWarnings[file] ?? [] });
      assert.ok(routes !== undefined);
    });
  }

  it('lists every cross-route problem, one a line', () => {
    const raw = edited((file) => {
      Object.assign(file.routes[1] as object, { name: 'orders-api' });
      Object.assign(file.routes[4] as object, { workflowType: 'dropTables' });
      Object.assign(file.routes[0] as object, { workflowId: 'order-{detail.orderId}' });
    });
    assert.deepEqual(problemsOf(raw), [
      'route "orders-api": "{detail.orderId}" does not start with a http root (body, headers, query, cookies, path, requestId)',
      'route name "orders-api" is used twice',
      'route "orders-queue": workflow type "dropTables" is not in "workflows"',
    ]);
  });

  it('lists every schema problem with its place, one a line', () => {
    const raw = edited((file) => {
      Object.assign(file.routes[0] as object, { name: '', http: { method: 'GETS', path: '/x' } });
      file.routes.push({ name: 'two', workflowType: 'cart', sqs: { queue: 'q' }, schedule: { rule: 'r' } });
    });
    assert.deepEqual(problemsOf(raw), [
      `routes[7]: a route needs exactly one of ${TRIGGERS.join(', ')}`,
      'routes[0].name: Too small: expected string to have >=1 characters',
      'routes[0].http.method: Invalid option: expected one of "GET"|"POST"|"PUT"|"PATCH"|"DELETE"',
    ]);
  });

  it('lists an input schema that does not compile', () => {
    const raw = edited((file) => {
      file.workflows.audit = { taskQueue: 'q', inputSchema: { requird: [] } };
    });
    assert.deepEqual(problemsOf(raw), [
      'workflow "audit": inputSchema strict mode: unknown keyword: "requird"',
    ]);
  });

  it('keeps a message of another shape whole', () => {
    assert.deepEqual(problemLines('Invalid routes file x'), ['Invalid routes file x']);
  });

  it('warns about routes an earlier route shadows, and eventbridge routes that are ticks', () => {
    const route = (name: string, trigger: Record<string, unknown>) => ({
      name,
      workflowType: 'a',
      ...trigger,
    });
    const raw = {
      workflows: { a: { taskQueue: 'q' } },
      routes: [
        route('orders', { http: { method: 'POST', path: '/orders/{tenant}' } }),
        route('special', { http: { method: 'POST', path: '/orders/special/' } }),
        route('get-special', { http: { method: 'GET', path: '/orders/special' } }),
        route('nested', { http: { method: 'POST', path: '/orders/{tenant}/items' } }),
        route('kind', { sqs: { queue: 'q', attributes: { kind: 'order' } } }),
        route('kind-and-priority', { sqs: { queue: 'q', attributes: { kind: 'order', priority: 'high' } } }),
        route('any', { sqs: { queue: 'q' } }),
        route('placed', { eventbridge: { source: 's', detailType: 'd' } }),
        route('paid', { eventbridge: { source: 's', detailType: 'd', detail: { status: 'paid' } } }),
        route('tick', { eventbridge: { source: 'aws.events', detailType: 'Scheduled Event' } }),
        route('nightly', { schedule: { rule: 'nightly' } }),
        route('nightly-again', { schedule: { rule: 'nightly' } }),
        route('hourly', { scheduler: { name: 'hourly' } }),
        route('hourly-default', { scheduler: { name: 'hourly', group: 'default' } }),
        route('hourly-ops', { scheduler: { name: 'hourly', group: 'ops' } }),
        route('kind-topic', { sns: { topic: 't', attributes: { kind: 'order' } } }),
        route('kind-and-priority-topic', {
          sns: { topic: 't', attributes: { kind: 'order', priority: '1' } },
        }),
        route('created', { s3: { bucket: 'b', events: ['ObjectCreated:*'] } }),
        route('put-pdf', {
          s3: { bucket: 'b', prefix: 'in/', suffix: '.pdf', events: ['ObjectCreated:Put'] },
        }),
        route('removed-pdf', {
          s3: { bucket: 'b', suffix: '.pdf', events: ['ObjectCreated:Put', 'ObjectRemoved:*'] },
        }),
        route('plus', { s3: { bucket: 'c', prefix: 'a+b/' } }),
        route('plus-pdf', { s3: { bucket: 'c', prefix: 'a+b/', suffix: '.pdf' } }),
        route('stream', { kinesis: { stream: 's' } }),
        route('stream-again', { kinesis: { stream: 's' } }),
        route('changes', { dynamodb: { table: 't', eventName: ['INSERT', 'MODIFY'] } }),
        route('inserts', { dynamodb: { table: 't', eventName: 'INSERT' } }),
        route('any-change', { dynamodb: { table: 't' } }),
      ],
    };
    const { problems, warnings } = checkRoutes(raw, 'test.json', undefined);

    assert.deepEqual(problems, []);
    assert.deepEqual(warnings, [
      'route "special" never matches: route "orders" comes first and matches every http event it would',
      'route "kind-and-priority" never matches: route "kind" comes first and matches every sqs event it would',
      'route "tick" never matches: the function takes "Scheduled Event" from aws.events as a schedule tick',
      'route "paid" never matches: route "placed" comes first and matches every eventbridge event it would',
      'route "nightly-again" never matches: route "nightly" comes first and matches every schedule event it would',
      'route "hourly-default" never matches: route "hourly" comes first and matches every scheduler event it would',
      'route "stream-again" never matches: route "stream" comes first and matches every kinesis event it would',
      'route "inserts" never matches: route "changes" comes first and matches every dynamodb event it would',
      'route "kind-and-priority-topic" never matches: route "kind-topic" comes first and matches every sns event it would',
      'route "put-pdf" never matches: route "created" comes first and matches every s3 event it would',
      'route "plus-pdf" never matches: route "plus" comes first and matches every s3 event it would',
    ]);
  });
});

describe('the examples in docs/routes.md', () => {
  const docs = readFileSync(join(ROOT, 'docs', 'routes.md'), 'utf8');
  const section = docs.slice(docs.indexOf('## Checking and explaining routes'));
  const blocks = (kind: string) =>
    [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)]
      .filter(([, k]) => k === kind)
      .map(([, , text]) => text ?? '');
  /** A console block: the command, and what it prints. */
  const printed = (block: string | undefined) => (block ?? '').replace(/^\$ .*\n/, '');

  it('show what check prints, for the invalid file and for it fixed', () => {
    const file = JSON.parse(blocks('json')[0] ?? '') as { routes: Record<string, unknown>[] };
    const [invalid, fixed] = blocks('console');

    assert.equal(formatCheck('routes.json', checkRoutes(file, 'routes.json', undefined)), printed(invalid));
    Object.assign(file.routes[0] as object, { workflowId: 'order-{body.orderId}' });
    Object.assign(file.routes[1] as object, { name: 'orders-queue', workflowType: 'processOrder' });
    assert.equal(formatCheck('routes.json', checkRoutes(file, 'routes.json', undefined)), printed(fixed));
  });

  it('show what explain prints for test/events/sqs/orders-batch.json', () => {
    const block = blocks('console')[2];
    assert.match(block ?? '', /^\$ npm run -s routes -- explain test\/events\/sqs\/orders-batch.json\n/);
    assert.equal(
      formatExplanations('sqs', explain(example, fixture('sqs/orders-batch.json'))),
      printed(block),
    );
  });
});

describe('npm run routes (the command)', { concurrency: true }, () => {
  const run = async (...args: string[]) => {
    const env = { ...process.env };
    delete env.INIT_CWD;
    // The command must not reach the network: any socket it opened would throw.
    const offline =
      'data:text/javascript,import net from "node:net";net.Socket.prototype.connect=()=>{throw new Error("network")};';
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', offline, 'scripts/routes.ts', ...args],
        { cwd: ROOT, env },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    }
  };

  it('explains an event against the routes file --routes names, and exits 0 when it matches', async () => {
    const { code, stdout } = await run(
      'explain',
      'test/events/eventbridge/scheduler-default.json',
      '--routes',
      'test/routes/contract.json',
    );
    assert.equal(code, 0);
    assert.match(stdout, /route "hourly-sync" matches \(scheduler: name "hourly-sync", group "ops"\)/);
    assert.match(stdout, /workflowId +"nightlyReport-ops-hourly-sync-2026-11-29T03:00:00Z"/);
  });

  it('exits 1 when a record fails, and prints JSON with --json', async () => {
    const { code, stdout } = await run('explain', 'test/events/sqs/orders-batch.json', '--json');
    const output = JSON.parse(stdout) as { ok: boolean; source: string; events: Explanation[] };
    assert.equal(code, 1);
    assert.deepEqual([output.ok, output.source, output.events.length], [false, 'sqs', 3]);
    assert.equal(output.events[0]?.request?.workflowId, 'order-2001');
  });

  it('exits 2 on usage errors: arguments, an event of no known shape, a file that is not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'routes-tool-'));
    await writeFile(join(dir, 'kafka.json'), JSON.stringify({ Records: [{ eventSource: 'aws:kafka' }] }));
    await writeFile(join(dir, 'text.json'), 'not json');
    const results = await Promise.all([
      run('explain'),
      run('explain', join(dir, 'kafka.json')),
      run('check', join(dir, 'text.json')),
    ]);
    assert.deepEqual(
      results.map(({ code }) => code),
      [2, 2, 2],
    );
    assert.match(results[0]?.stderr ?? '', /explain needs an event file\n\nusage:/);
    assert.match(results[1]?.stderr ?? '', /not an event the functions take/);
    assert.match(results[2]?.stderr ?? '', /is not valid JSON/);
  });

  it('checks routes.json by default and exits 0, and exits 1 listing each problem of a bad file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'routes-tool-'));
    const bad = join(dir, 'routes.json');
    await writeFile(
      bad,
      JSON.stringify({ workflows: {}, routes: [{ name: 'x', workflowType: 'y', sqs: { queue: 'q' } }] }),
    );

    const valid = await run('check');
    const invalid = await run('check', bad);

    assert.deepEqual([valid.code, valid.stdout], [0, '✔ routes.json is valid: 3 workflow types, 7 routes\n']);
    assert.equal(invalid.code, 1);
    assert.deepEqual(invalid.stdout.split('\n'), [
      '✖ route "x": workflow type "y" is not in "workflows"',
      `✖ ${bad} is invalid: 1 problem`,
      '',
    ]);
  });
});
