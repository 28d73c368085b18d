import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  APIGatewayProxyStructuredResultV2,
  EventBridgeEvent,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { bundle } from '../../infra/build.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { eventBridgeEvent, httpEvent, sqsEvent, sqsRecord, uid } from '../helpers/events.ts';
import { captureLogs } from '../helpers/logs.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/**
 * Input schemas in all three triggers, against a real Temporal server and worker, twice: with the
 * routes file bundled by the build, whose schemas it compiled into plain code, and with the same file
 * named by ROUTES_FILE, whose schemas the cold start compiles.
 */

const ROUTES = new URL('../routes/input-schemas.json', import.meta.url).pathname;

interface Handlers {
  http(event: unknown): Promise<APIGatewayProxyStructuredResultV2>;
  sqs(event: SQSEvent): Promise<SQSBatchResponse>;
  eventbridge(event: EventBridgeEvent<string, unknown>): Promise<void>;
}

type Handler = (event: never, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

const handlersOf = (modules: Record<keyof Handlers, { handler: Handler }>): Handlers => ({
  http: async (event) =>
    (await modules.http.handler(event as never, lambdaContext())) as APIGatewayProxyStructuredResultV2,
  sqs: async (event) => (await modules.sqs.handler(event as never, lambdaContext())) as SQSBatchResponse,
  eventbridge: async (event) => {
    await modules.eventbridge.handler(event as never, lambdaContext());
  },
});

const FUNCTIONS = ['http', 'sqs', 'eventbridge'] as const;

/** An order ID the schema's pattern accepts, unique per call. */
const orderId = (): string => `AB-${Date.now()}${Math.floor(Math.random() * 1e6)}`;

describe('input schemas', () => {
  let stack: Stack;
  let dir: string;
  const variants: [string, Handlers][] = [];

  before(async () => {
    stack = await startStack(['orders']);
    dir = await mkdtemp(join(tmpdir(), 'input-schemas-'));
    const routes = await readFile(ROUTES, 'utf8');
    const bundled: Record<string, { handler: Handler }> = {};
    delete process.env.ROUTES_FILE;
    for (const name of FUNCTIONS) {
      const { file } = await bundle(name, `functions/${name}.ts`, join(dir, name), routes);
      // Imported before ROUTES_FILE is set: it validates with what the build compiled.
      bundled[name] = (await import(file)) as { handler: Handler };
    }
    variants.push(['bundled, compiled by the build', handlersOf(bundled)]);
    process.env.ROUTES_FILE = ROUTES;
    const source = {
      http: await import('../../functions/http.ts'),
      sqs: await import('../../functions/sqs.ts'),
      eventbridge: await import('../../functions/eventbridge.ts'),
    };
    variants.push(['ROUTES_FILE, compiled at cold start', handlersOf(source as never)]);
  });
  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const byPointer = (errors: { pointer: string }[]) =>
    [...errors].sort((a, b) => a.pointer.localeCompare(b.pointer));
  const problem = (response: APIGatewayProxyStructuredResultV2) => {
    assert.equal(response.headers?.['content-type'], 'application/problem+json');
    return JSON.parse(String(response.body));
  };

  const each = (title: string, test: (handlers: Handlers) => Promise<void>) => {
    it(title, async (t) => {
      for (const [variant, handlers] of variants) {
        await t.test(variant, () => test(handlers));
      }
    });
  };

  each('HTTP: starts a workflow with input that satisfies the schema', async ({ http }) => {
    const id = orderId();
    const response = await http(
      httpEvent({ path: '/orders', body: { orderId: id, quantity: 2, email: 'a@example.com' } }),
    );
    assert.equal(response.statusCode, 202, String(response.body));
    assert.deepEqual((await stack.completed(`order-${id}`)).result, {
      processed: true,
      input: { orderId: id, quantity: 2, email: 'a@example.com' },
    });
  });

  each(
    'HTTP: answers 422 listing every violation, pointing into the body, and starts nothing',
    async ({ http }) => {
      const id = `bad-${uid()}`;
      const response = await http(
        httpEvent({ path: '/orders', body: { orderId: id, quantity: 0, email: 'nope', coupon: 'X' } }),
      );
      assert.equal(response.statusCode, 422);
      const body = problem(response);
      assert.equal(body.type, 'urn:temporal-triggers:problem:input-schema');
      assert.equal(body.title, 'Invalid input');
      assert.deepEqual(byPointer(body.errors), [
        { in: 'body', pointer: '/coupon', detail: 'is not allowed' },
        { in: 'body', pointer: '/email', detail: 'must match format "email"' },
        { in: 'body', pointer: '/orderId', detail: 'must match pattern "^[A-Z]{2}-\\d+$"' },
        { in: 'body', pointer: '/quantity', detail: 'must be >= 1' },
      ]);
      assert.equal(await stack.exists(`order-${id}`), false);
    },
  );

  each(
    "HTTP: a route's own schema replaces its type's, and points into each part of the request",
    async ({ http }) => {
      const id = uid();
      const refused = await http(httpEvent({ path: '/tenants/ab/orders', body: { orderId: id, lines: [] } }));
      assert.equal(refused.statusCode, 422);
      assert.deepEqual(byPointer(problem(refused).errors), [
        { in: 'body', pointer: '/lines', detail: 'must NOT have fewer than 1 items' },
        { in: 'path', pointer: '/tenant', detail: 'must NOT have fewer than 3 characters' },
      ]);
      // processOrder's own schema would refuse this input: the route's applies instead.
      const accepted = await http(
        httpEvent({ path: '/tenants/acme/orders', body: { orderId: id, lines: [{ sku: 'A' }] } }),
      );
      assert.equal(accepted.statusCode, 202, String(accepted.body));
      assert.deepEqual((await stack.completed(`tenant-order-acme-${id}`)).result, {
        processed: true,
        input: { order: { orderId: id, lines: [{ sku: 'A' }] }, tenant: 'acme', source: 'api' },
      });
    },
  );

  each("HTTP: the canonical envelope checks its input against the type's schema", async ({ http }) => {
    const invalid = await http(httpEvent({ path: '/workflows/processOrder', body: { orderId: 'AB-1' } }));
    assert.equal(invalid.statusCode, 422);
    assert.deepEqual(problem(invalid).errors, [{ in: 'input', pointer: '/quantity', detail: 'is required' }]);
    const missing = await http(httpEvent({ path: '/workflows/processOrder' }));
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(problem(missing).errors, [{ in: 'input', pointer: '', detail: 'is required' }]);
  });

  each(
    'SQS: fails a message whose input violates the schema permanently, logging pointers, never values',
    async ({ sqs }) => {
      const good = orderId();
      const secretish = `ZZ-private-${uid()}`;
      const valid = sqsRecord({ orderId: good, quantity: 1 });
      const invalid = sqsRecord({ orderId: secretish, quantity: `many-${secretish}` });
      const { result, lines, records } = await captureLogs(() => sqs(sqsEvent(valid, invalid)));

      assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: invalid.messageId }] });
      assert.deepEqual((await stack.completed(`order-${good}`)).result, {
        processed: true,
        input: { orderId: good, quantity: 1 },
      });
      assert.equal(await stack.exists(`order-${secretish}`), false);
      const failure = records.find((entry) => entry.eventId === invalid.messageId && entry.level === 'ERROR');
      assert.equal(failure?.permanent, true);
      assert.equal(failure?.reason, 'InputSchemaError');
      const error = failure?.error as { message: string; violations: unknown };
      assert.match(error.message, /body \/orderId: must match pattern/);
      assert.match(error.message, /body \/quantity: must be integer/);
      assert.deepEqual(byPointer(error.violations as { pointer: string }[]), [
        { in: 'body', pointer: '/orderId', detail: 'must match pattern "^[A-Z]{2}-\\d+$"' },
        { in: 'body', pointer: '/quantity', detail: 'must be integer' },
      ]);
      assert.equal(
        lines.filter((line) => line.includes(secretish)).length,
        0,
        'no log line holds a value of the input',
      );
    },
  );

  each(
    'EventBridge: fails an event whose detail violates the schema permanently, and starts a valid one',
    async ({ eventbridge }) => {
      const good = orderId();
      await eventbridge(eventBridgeEvent({ orderId: good, quantity: 3 }));
      assert.deepEqual((await stack.completed(`order-${good}`)).result, {
        processed: true,
        input: { orderId: good, quantity: 3 },
      });

      const bad = orderId();
      const { result, records } = await captureLogs(() =>
        eventbridge(eventBridgeEvent({ orderId: bad, quantity: 1.5, extra: true })).then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
      assert.equal((result as Error | undefined)?.name, 'InputSchemaError');
      const failure = records.find((entry) => entry.level === 'ERROR');
      assert.equal(failure?.permanent, true);
      assert.deepEqual(
        byPointer((failure?.error as { violations: { pointer: string }[] } | undefined)?.violations ?? []),
        [
          { in: 'detail', pointer: '/extra', detail: 'is not allowed' },
          { in: 'detail', pointer: '/quantity', detail: 'must be integer' },
        ],
      );
      assert.equal(await stack.exists(`order-${bad}`), false);
    },
  );
});
