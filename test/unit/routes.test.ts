import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { resetConfig } from '#lib/config.ts';
import { RoutesFileError } from '#lib/errors.ts';
import { resetRoutes, routes } from '#lib/routes/load.ts';
import { startOptionsShape } from '#lib/routes/schema.ts';
import { START_OPTION_KEYS } from '#lib/routes/startOptions.ts';
import { compileRoutes } from '#lib/routes/validate.ts';
import { routesJsonSchema } from '../../scripts/schema.ts';
import { fixture } from '../helpers/events.ts';

const example = () => JSON.parse(JSON.stringify(fixture<unknown>('../../routes.json')));

const rejects = (raw: unknown, pattern: RegExp, taskQueue?: string) =>
  assert.throws(
    () => compileRoutes(raw, 'test.json', taskQueue),
    (error: unknown) => error instanceof RoutesFileError && pattern.test(error.message),
  );

describe('compileRoutes', () => {
  it('accepts the example routes file and fills in the default policies', () => {
    const table = compileRoutes(example(), 'routes.json', undefined);
    assert.deepEqual(table.workflows.get('processOrder'), {
      taskQueue: 'orders',
      idReusePolicy: 'REJECT_DUPLICATE',
      idConflictPolicy: 'USE_EXISTING',
      options: {},
      target: {},
    });
    assert.equal(table.workflows.get('nightlyReport')?.idReusePolicy, 'ALLOW_DUPLICATE');
    assert.deepEqual(
      [table.http.length, table.sqs.length, table.eventbridge.length, table.schedule.length],
      [4, 1, 1, 1],
    );
    assert.deepEqual(
      table.http.map(({ route }) => route.action ?? 'start'),
      ['start', 'signalWithStart', 'updateWithStart', 'update'],
    );
  });

  it('falls back to TEMPORAL_TASK_QUEUE, and refuses a workflow without any task queue', () => {
    const raw = { workflows: { audit: {} }, routes: [] };
    assert.equal(compileRoutes(raw, 'x', 'fallback').workflows.get('audit')?.taskQueue, 'fallback');
    rejects(raw, /workflow "audit" has no taskQueue and TEMPORAL_TASK_QUEUE is not set/);
  });

  it('refuses a route whose workflow type is not in the allow-list', () => {
    const raw = example();
    raw.routes[0].workflowType = 'dropTables';
    rejects(raw, /route "orders-api": workflow type "dropTables" is not in "workflows"/);
  });

  it('refuses a template root the trigger does not have', () => {
    const raw = example();
    raw.routes[0].workflowId = 'order-{detail.orderId}';
    rejects(raw, /route "orders-api": "\{detail.orderId\}" does not start with a http root/);
  });

  it('refuses a path parameter the route path does not have', () => {
    const raw = example();
    raw.routes[0].input = { tenant: '{path.tenantId}' };
    rejects(raw, /route "orders-api": "\{path.tenantId\}" names no parameter of "\/orders\/\{tenant\}"/);
  });

  it('refuses duplicate route names, unknown keys, bad policies and routes without exactly one trigger', () => {
    const duplicate = example();
    duplicate.routes[1].name = 'orders-api';
    rejects(duplicate, /route name "orders-api" is used twice/);

    const unknownKey = example();
    unknownKey.routes[0].queue = 'x';
    rejects(unknownKey, /Unrecognized key: "queue"/);

    const badPolicy = example();
    badPolicy.workflows.processOrder.idReusePolicy = 'SOMETIMES';
    rejects(badPolicy, /idReusePolicy/);

    const twoTriggers = example();
    twoTriggers.routes[0].sqs = { queue: 'orders' };
    rejects(twoTriggers, /exactly one of http, sqs, eventbridge, schedule/);

    const noTrigger = example();
    delete noTrigger.routes[0].http;
    rejects(noTrigger, /exactly one of http, sqs, eventbridge, schedule/);
  });

  it('accepts the contract test routes: signatures, detail matching, default workflow IDs', () => {
    const routes = compileRoutes(fixture('../routes/contract.json'), 'contract.json', undefined);
    assert.equal(
      routes.http.find(({ route }) => route.name === 'github-push')?.route.http?.signature?.scheme,
      'github',
    );
    assert.deepEqual(routes.eventbridge[0]?.eventbridge?.detail, { status: 'paid' });
  });

  it('lists every problem of actions, start options, search attributes and namespaces at once', () => {
    const raw = {
      searchAttributes: { Customer: 'KEYWORD' },
      workflows: {
        cart: { taskQueue: 'carts', idConflictPolicy: 'FAIL', memo: { who: '{body.user}' } },
        ledger: { taskQueue: 'ledger', address: 'ledger.example:7233', searchAttributes: { Region: 'eu' } },
      },
      routes: [
        { name: 'a', sqs: { queue: 'q' }, workflowType: 'cart', action: 'signalWithStart' },
        { name: 'b', sqs: { queue: 'q' }, workflowType: 'cart', signal: { name: 's', args: [] } },
        { name: 'c', sqs: { queue: 'q' }, workflowType: 'cart', action: 'updateWithStart' },
        {
          name: 'd',
          sqs: { queue: 'q' },
          workflowType: 'cart',
          action: 'signalWithStart',
          signal: { name: 's', args: ['{body}'] },
          missingWorkflowRetrySeconds: 30,
          searchAttributes: { Customer: '{body.customer}', Tier: 'gold' },
        },
        { name: 'e', sqs: { queue: 'q' }, workflowType: 'cart', update: { name: 'u', args: [] } },
      ],
    };
    const problems = [
      /workflow "cart": "memo" holds a template/,
      /workflow "ledger": "address" and "secretId" go with "namespace"/,
      /workflow "ledger": search attribute "Region" is not declared/,
      /route "a": action signalWithStart needs "signal"/,
      /route "b": "signal" needs action signal or signalWithStart/,
      /route "c": action updateWithStart needs "update"/,
      /route "d": "missingWorkflowRetrySeconds" applies to the signal and update actions only/,
      /route "d": signalWithStart cannot start "cart", whose idConflictPolicy FAIL/,
      /route "d": search attribute "Tier" is not declared/,
      /route "e": "update" needs action update or updateWithStart/,
    ];
    assert.throws(
      () => compileRoutes(raw, 'test.json', undefined),
      (error: unknown) => {
        assert.ok(error instanceof RoutesFileError);
        for (const problem of problems) assert.match(error.message, problem);
        return true;
      },
    );
  });

  it('refuses a search attribute type, action or waitFor it does not know', () => {
    const raw = example();
    raw.searchAttributes = { Customer: 'STRING' };
    rejects(raw, /searchAttributes/);
    const action = example();
    action.routes[0].action = 'query';
    rejects(action, /action/);
    const waitFor = example();
    waitFor.routes[2].update.waitFor = 'started';
    rejects(waitFor, /waitFor/);
  });

  it('refuses signature options that do not fit the scheme, and unknown schemes', () => {
    const raw = example();
    const signature = (value: unknown) => {
      raw.routes[0].http.signature = value;
      return () => compileRoutes(raw, 'routes.json', undefined);
    };
    assert.throws(signature({ scheme: 'hmac-sha256', secret: { env: 'S' } }), /needs "header"/);
    assert.throws(
      signature({ scheme: 'github', secret: { env: 'S' }, prefix: 'x' }),
      /hmac-sha256 scheme only/,
    );
    assert.throws(
      signature({ scheme: 'github', secret: { env: 'S' }, toleranceSeconds: 5 }),
      /stripe scheme only/,
    );
    assert.throws(signature({ scheme: 'md5', secret: { env: 'S' } }), RoutesFileError);
    assert.throws(signature({ scheme: 'github', secret: { value: 'inline' } }), RoutesFileError);
    assert.doesNotThrow(signature({ scheme: 'github', secret: { secretId: 'webhooks', field: 'github' } }));
  });

  it('lists every problem at once, with the file it came from', () => {
    const raw = example();
    raw.routes[0].workflowType = 'a';
    raw.routes[1].workflowType = 'b';
    assert.throws(
      () => compileRoutes(raw, '/etc/routes.json', undefined),
      (error: unknown) =>
        error instanceof RoutesFileError &&
        error.message.includes('/etc/routes.json') &&
        error.message.includes('"a"') &&
        error.message.includes('"b"'),
    );
  });
});

describe('routes', () => {
  afterEach(() => {
    delete process.env.ROUTES_FILE;
    resetConfig();
    resetRoutes();
  });

  it('uses the bundled routes.json without ROUTES_FILE', async () => {
    assert.deepEqual([...(await routes()).workflows.keys()], ['processOrder', 'nightlyReport', 'cart']);
  });

  it('replaces the bundled file with ROUTES_FILE', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'routes-')), 'routes.json');
    await writeFile(path, JSON.stringify({ workflows: { audit: { taskQueue: 'audit' } } }));
    process.env.ROUTES_FILE = path;
    assert.deepEqual([...(await routes()).workflows.keys()], ['audit']);
  });

  it('validates a ROUTES_FILE against the schema, listing the problems', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'routes-')), 'routes.json');
    await writeFile(path, JSON.stringify({ workflows: { audit: { taskQueue: 'audit', retries: 3 } } }));
    process.env.ROUTES_FILE = path;
    await assert.rejects(
      routes(),
      (error: unknown) => error instanceof RoutesFileError && /retries/.test(error.message),
    );
  });

  it('fails clearly on a missing or malformed ROUTES_FILE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'routes-'));
    process.env.ROUTES_FILE = join(dir, 'missing.json');
    await assert.rejects(routes(), /Cannot read routes file .*missing\.json \(ROUTES_FILE\)/);
    resetConfig();
    resetRoutes();
    await writeFile(join(dir, 'bad.json'), '{ "workflows": ');
    process.env.ROUTES_FILE = join(dir, 'bad.json');
    await assert.rejects(routes(), /bad\.json \(ROUTES_FILE\) is not valid JSON/);
  });
});

describe('routes.schema.json', () => {
  it('is the schema generated from the validator (run `npm run schema` after changing it)', async () => {
    const committed = await readFile(new URL('../../routes.schema.json', import.meta.url), 'utf8');
    assert.equal(committed, routesJsonSchema());
  });

  it('lists the same start options as the list a cold start picks them by', () => {
    assert.deepEqual(Object.keys(startOptionsShape).sort(), [...START_OPTION_KEYS].sort());
  });
});
