import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { resetConfig } from '#lib/config.ts';
import * as errors from '#lib/errors.ts';
import { NoRouteError } from '#lib/errors.ts';
import { openapiDocument, problemTypes } from '#lib/http/openapi.ts';
import { openapiResponse } from '#lib/http/openapiResponse.ts';
import { toHttpRequest } from '#lib/http/request.ts';
import { problemType } from '#lib/http/response.ts';
import type { RoutesFile } from '#lib/routes/schema.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { handleHttp } from '#lib/sources/http.ts';
import { lambdaContext } from '../../scripts/lambdaContext.ts';
import { openapiText } from '../../scripts/openapi.ts';
import { httpEvent } from '../helpers/events.ts';

const ROUTES_FILES = ['routes.json', 'test/routes/contract.json', 'test/routes/openapi.json'];
const read = (path: string) =>
  ({ routes: [], ...JSON.parse(readFileSync(path, 'utf8')) }) as RoutesFile & {
    routes: RoutesFile['routes'];
  };

type Json = Record<string, unknown>;
const at = (value: unknown, ...keys: string[]): Json =>
  keys.reduce((node, key) => (node as Json)[key], value) as Json;
const operations = (document: Json) =>
  Object.entries(at(document, 'paths')).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, operation]) => ({
      path,
      method,
      operation: operation as Json,
    })),
  );

describe('openapiDocument', () => {
  for (const path of ROUTES_FILES) {
    for (const served of [false, true]) {
      it(`is a valid OpenAPI 3.1 document for ${path}${served ? ', as served' : ''}`, async () => {
        const validator = new Validator();
        const result = await validator.validate(openapiDocument(read(path), { served }) as Json);
        assert.deepEqual(result, { valid: true });
        assert.equal(validator.version, '3.1');
      });
    }
  }

  it('has every http route of the file, with its method, path parameters, operation ID and summary, then the canonical endpoints', () => {
    const file = read('routes.json');
    const listed = operations(openapiDocument(file));
    const http = file.routes.filter((route) => route.http !== undefined);
    assert.deepEqual(
      listed.map(({ method, path, operation }) => `${method} ${path} ${operation.operationId}`),
      [
        ...http.map((route) => `${route.http?.method.toLowerCase()} ${route.http?.path} ${route.name}`),
        'post /workflows/{workflow} startWorkflow',
        'get /workflows/{workflow} getWorkflow',
      ],
    );
    const orders = listed[0]?.operation ?? {};
    assert.equal(orders.summary, 'Start processOrder');
    assert.deepEqual((orders.parameters as Json[])[0], {
      name: 'tenant',
      in: 'path',
      required: true,
      schema: { type: 'string' },
      description: "`{path.tenant}` in the route's templates.",
    });
    const types = at(listed.at(-2), 'operation', 'parameters', '0', 'schema');
    assert.deepEqual(types, { enum: Object.keys(file.workflows) });
  });

  it('lists GET /openapi.json first when served, and a method and path once, as the function matches them', () => {
    const document = openapiDocument(read('test/routes/openapi.json'), { served: true });
    const ids = operations(document).map(
      ({ method, path, operation }) => `${method} ${path} ${operation.operationId}`,
    );
    assert.equal(ids[0], 'get /openapi.json getOpenApiDocument');
    assert.ok(ids.includes('post /orders orders-api'));
    assert.ok(!ids.some((id) => id.includes('orders-api-shadowed')), 'a route an earlier one hides');
    // `/tenants/{name}/orders` is the path `/tenants/{tenant}/orders` for OpenAPI: one path, named after the first.
    const listing = at(document, 'paths', '/tenants/{tenant}/orders', 'get');
    assert.equal(listing.operationId, 'tenant-orders-list');
    assert.deepEqual(at(listing, 'parameters', '0'), {
      name: 'tenant',
      in: 'path',
      required: true,
      schema: { type: 'string' },
      description: "`{path.name}` in the route's templates.",
    });
  });

  it('gives a route its operation ID, and a canonical operation that would take it another', () => {
    const file = read('routes.json');
    file.routes[0] = { ...(file.routes[0] as RoutesFile['routes'][number]), name: 'startWorkflow' };
    const ids = operations(openapiDocument(file)).map(({ operation }) => operation.operationId);
    assert.ok(ids.includes('startWorkflow') && ids.includes('startWorkflow_2'), ids.join());
  });

  it('describes a signed webhook: no authorizer, its signature header required, 401 a problem', () => {
    const document = openapiDocument(read('test/routes/openapi.json'));
    const hook = at(document, 'paths', '/webhooks/receipts', 'post');
    assert.deepEqual(hook.security, []);
    assert.deepEqual(at(hook, 'parameters', '0', 'schema'), {
      type: 'string',
      pattern: '^v1=[0-9A-Fa-f]{64}$',
    });
    assert.equal(at(hook, 'parameters', '0').name, 'x-receipt-signature');
    assert.deepEqual(at(hook, 'responses', '401'), { $ref: '#/components/responses/Problem401' });
    assert.equal(at(hook, 'responses', '403'), undefined, 'no authorizer to refuse it');
    const orders = at(document, 'paths', '/orders', 'post');
    assert.equal(orders.security, undefined, "the API's authorizer");
    assert.deepEqual(at(orders, 'responses', '403'), { $ref: '#/components/responses/Gateway403' });
    assert.deepEqual(document.security, [{ iam: [] }, { jwt: [] }]);
  });

  it('takes request bodies from the input schemas, kept whole as components', () => {
    const document = openapiDocument(read('test/routes/openapi.json'));
    const schemas = at(document, 'components', 'schemas');
    assert.deepEqual(
      at(schemas, 'input.workflow.processOrder', 'properties', 'lines', 'items'),
      { $ref: '#/components/schemas/input.workflow.processOrder/$defs/line' },
      'its references now start where it is',
    );
    const body = (path: string) =>
      at(document, 'paths', path, 'post', 'requestBody', 'content', 'application/json').schema;
    assert.deepEqual(body('/orders'), {
      allOf: [
        { $ref: '#/components/schemas/input.workflow.processOrder' },
        { type: 'object', required: ['orderId'], properties: { orderId: { not: { type: 'null' } } } },
      ],
    });
    assert.deepEqual(at(body('/tenants/{tenant}/orders'), 'properties', 'order', 'properties', 'lines'), {
      type: 'array',
      minItems: 1,
      items: { type: 'object' },
    });
    const canonical = at(document, 'paths', '/workflows/{workflow}', 'post', 'requestBody');
    assert.deepEqual(at(canonical, 'content', 'application/json').schema, {}, 'cart takes any input');
    assert.match(
      String(canonical.description),
      /processOrder: `#\/components\/schemas\/input\.workflow\.processOrder`; cart: any JSON/,
    );
  });

  it('has body schemas that accept a body whose input satisfies the input schema, and refuse one whose does not', () => {
    const document = openapiDocument(read('test/routes/openapi.json'));
    const ajv = new Ajv2020({ strict: false, validateFormats: false }).addSchema(
      { ...document, $id: 'https://example.com/openapi' },
      'openapi',
    );
    const valid = ajv.compile({
      $ref: 'https://example.com/openapi#/paths/~1orders/post/requestBody/content/application~1json/schema',
    });
    assert.ok(valid({ orderId: 'AB-1', lines: [{ sku: 'a', quantity: 1 }] }), JSON.stringify(valid.errors));
    assert.equal(valid({ orderId: 'AB-1', lines: [{ sku: 'a' }] }), false);
    assert.equal(valid({ orderId: null, lines: [] }), false);
  });

  it('lists every problem type of lib/errors.ts an HTTP request may get, by status, with its title', () => {
    const expected = Object.values(errors as Record<string, unknown>)
      .filter((value) => typeof value === 'function' && value.prototype instanceof errors.TriggerError)
      .map((value) => new (value as new (...args: unknown[]) => errors.TriggerError)('', []))
      // A bad routes file fails the cold start; the other two are the event sources' retries.
      .filter(
        ({ name }) => !['RoutesFileError', 'WorkflowNotStartedError', 'ShardBlockedError'].includes(name),
      )
      .map(({ statusCode, name, title }) => `${statusCode} ${problemType(name)} ${title}`);
    const listed = [...problemTypes()].flatMap(([status, types]) =>
      types.map(({ type, title }) => `${status} ${type} ${title}`),
    );
    assert.deepEqual(listed.sort(), [...expected, '500 about:blank Internal Server Error'].sort());
    const responses = at(openapiDocument(read('routes.json')), 'components', 'responses');
    assert.deepEqual(
      at(
        responses,
        'Problem422',
        'content',
        'application/problem+json',
        'schema',
        'properties',
        'type',
        'enum',
      ),
      problemTypes()
        .get(422)
        ?.map(({ type }) => type),
    );
    assert.ok(at(responses, 'Problem503', 'headers', 'Retry-After'));
    assert.ok(at(responses, 'Problem405', 'headers', 'Allow'));
  });

  it('describes the optional problem members of input schema violations and a reused Idempotency-Key', () => {
    const problem = at(
      openapiDocument(read('routes.json')),
      'components',
      'schemas',
      'Problem',
      'properties',
    );
    assert.deepEqual(at(problem, 'errors', 'items', 'required'), ['in', 'pointer', 'detail']);
    assert.equal(at(problem, 'idempotencyKey').type, 'string');
  });

  it('is the same for the same routes, whatever order the file keeps its keys in; its version follows the routes', () => {
    const file = read('routes.json');
    const reordered = { routes: file.routes, workflows: file.workflows, $schema: file.$schema } as RoutesFile;
    assert.deepEqual(openapiDocument(reordered), openapiDocument(file));
    const changed = { ...file, workflows: { ...file.workflows, extra: { taskQueue: 'q' } } };
    assert.notEqual(at(openapiDocument(changed), 'info').version, at(openapiDocument(file), 'info').version);
  });
});

describe('npm run openapi', () => {
  it('writes the document of a routes file it validated first', async () => {
    const text = await openapiText('test/routes/contract.json', true);
    assert.deepEqual(JSON.parse(text), openapiDocument(read('test/routes/contract.json'), { served: true }));
    await assert.rejects(openapiText('test/routes/not-there.json'), /ENOENT/);
  });
});

describe('GET /openapi.json', () => {
  const saved = { HTTP_OPENAPI: process.env.HTTP_OPENAPI, ROUTES_FILE: process.env.ROUTES_FILE };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetConfig();
    openapiResponse.reset();
  });
  const get = () => toHttpRequest(httpEvent({ method: 'GET', path: '/openapi.json' }));
  const routes = compileRoutes(read('test/routes/openapi.json'), 'openapi.json', undefined);

  it('serves the document of the routes file in force with HTTP_OPENAPI on, made once', async () => {
    process.env.HTTP_OPENAPI = 'true';
    process.env.ROUTES_FILE = 'test/routes/openapi.json';
    const first = await handleHttp(routes, get(), lambdaContext(), Date.now());
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['content-type'], 'application/json');
    assert.deepEqual(
      JSON.parse(String(first.body)),
      openapiDocument(read('test/routes/openapi.json'), { served: true }),
    );
    assert.equal(await handleHttp(routes, get(), lambdaContext(), Date.now()), first, 'kept');
  });

  it('is no route with HTTP_OPENAPI off or unset', async () => {
    for (const value of ['off', undefined]) {
      if (value === undefined) delete process.env.HTTP_OPENAPI;
      else process.env.HTTP_OPENAPI = value;
      resetConfig();
      await assert.rejects(handleHttp(routes, get(), lambdaContext(), Date.now()), NoRouteError);
    }
  });
});
