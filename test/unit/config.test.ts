import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, describe, it } from 'node:test';
import { config, resetConfig } from '#lib/config.ts';
import { allowedOrigin, httpCorsOptions } from '#lib/http/cors.ts';

const VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TASK_QUEUE',
  'ROUTES_FILE',
  'TEMPORAL_SECRET_ID',
  'TEMPORAL_SECRET_TTL_SECONDS',
  'TEMPORAL_KEEPALIVE_TIME_MS',
  'TEMPORAL_KEEPALIVE_TIMEOUT_MS',
  'CORS_ALLOW_ORIGINS',
  'HTTP_OPENAPI',
];

describe('config', () => {
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  // A profile file of our own with an empty default profile, so a developer's temporal.toml cannot
  // change the defaults. (envconfig fails on a file with no profile at all.)
  const emptyProfile = join(mkdtempSync(join(tmpdir(), 'envconfig-')), 'temporal.toml');
  before(() => writeFileSync(emptyProfile, '[profile.default]\n'));
  const isolate = () => {
    process.env.TEMPORAL_CONFIG_FILE = emptyProfile;
  };
  afterEach(() => {
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    resetConfig();
  });

  it('defaults to a local server and the default namespace', () => {
    for (const name of VARIABLES) delete process.env[name];
    isolate();
    const { temporal, taskQueue, routesFile } = config();
    assert.equal(temporal.connection.address, 'localhost:7233');
    assert.equal(temporal.namespace, 'default');
    assert.equal(temporal.connection.apiKey, undefined);
    assert.equal(taskQueue, undefined);
    assert.equal(routesFile, undefined);
    assert.equal(temporal.secretId, undefined);
    assert.equal(temporal.secretTtlSeconds, 300);
    assert.equal(temporal.keepaliveTimeMs, 30_000);
    assert.equal(temporal.keepaliveTimeoutMs, 3_000);
  });

  it('reads the credentials secret, its cache TTL and the keepalive settings', () => {
    isolate();
    process.env.TEMPORAL_SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:temporal-AbCdEf';
    process.env.TEMPORAL_SECRET_TTL_SECONDS = '60';
    process.env.TEMPORAL_KEEPALIVE_TIME_MS = '5000';
    process.env.TEMPORAL_KEEPALIVE_TIMEOUT_MS = '1000';
    const { temporal } = config();
    assert.equal(temporal.secretId, process.env.TEMPORAL_SECRET_ID);
    assert.equal(temporal.secretTtlSeconds, 60);
    assert.equal(temporal.keepaliveTimeMs, 5_000);
    assert.equal(temporal.keepaliveTimeoutMs, 1_000);
    resetConfig();
    process.env.TEMPORAL_SECRET_TTL_SECONDS = '5m';
    assert.throws(() => config(), /TEMPORAL_SECRET_TTL_SECONDS must be a positive whole number/);
  });

  it("reads the connection from @temporalio/envconfig's variables; an API key turns TLS on", () => {
    isolate();
    process.env.TEMPORAL_ADDRESS = 'my-ns.a1b2c.tmprl.cloud:7233';
    process.env.TEMPORAL_NAMESPACE = 'my-ns.a1b2c';
    process.env.TEMPORAL_API_KEY = 'key-123';
    process.env.TEMPORAL_TASK_QUEUE = 'fallback';
    const { temporal, taskQueue } = config();
    assert.equal(temporal.connection.address, 'my-ns.a1b2c.tmprl.cloud:7233');
    assert.equal(temporal.namespace, 'my-ns.a1b2c');
    assert.equal(temporal.connection.apiKey, 'key-123');
    assert.ok(temporal.connection.tls);
    assert.equal(taskQueue, 'fallback');
  });

  it('takes CORS origins as the HTTP API does: exact origins, "*" and "https://*"', () => {
    isolate();
    process.env.CORS_ALLOW_ORIGINS = 'https://app.example.com, http://localhost:3000,https://*';
    assert.deepEqual(config().corsAllowOrigins, [
      'https://app.example.com',
      'http://localhost:3000',
      'https://*',
    ]);
    resetConfig();
    process.env.CORS_ALLOW_ORIGINS = '*';
    assert.deepEqual(config().corsAllowOrigins, ['*']);
  });

  it('fails on a CORS origin the HTTP API refuses, naming the entry', () => {
    isolate();
    for (const bad of ['https://*.example.com', 'https://app.example.com/', 'app.example.com', 'http://*']) {
      resetConfig();
      process.env.CORS_ALLOW_ORIGINS = `https://ok.example.com,${bad}`;
      assert.throws(
        () => config(),
        (error: unknown) =>
          error instanceof Error &&
          error.message.startsWith(`CORS_ALLOW_ORIGINS: ${JSON.stringify(bad)} is not an allowed origin`) &&
          !error.message.includes('ok.example.com'),
        bad,
      );
    }
  });

  it('serves the OpenAPI document only when HTTP_OPENAPI says so, and refuses a value that is no flag', () => {
    isolate();
    const openapi = (value: string | undefined) => {
      if (value === undefined) delete process.env.HTTP_OPENAPI;
      else process.env.HTTP_OPENAPI = value;
      resetConfig();
      return config().openapi;
    };
    assert.deepEqual(['true', 'on', '1'].map(openapi), [true, true, true]);
    assert.deepEqual(['false', 'off', '', undefined].map(openapi), [false, false, false, false]);
    assert.throws(() => openapi('maybe'), /HTTP_OPENAPI must be a boolean/);
  });

  it('is read once, until reset', () => {
    isolate();
    process.env.TEMPORAL_NAMESPACE = 'first';
    assert.equal(config().temporal.namespace, 'first');
    process.env.TEMPORAL_NAMESPACE = 'second';
    assert.equal(config().temporal.namespace, 'first');
    resetConfig();
    assert.equal(config().temporal.namespace, 'second');
  });
});

describe('CORS', () => {
  it('answers a listed origin, any HTTPS origin under "https://*", and "*" under "*"', () => {
    const origins = ['https://app.example.com', 'http://localhost:3000'];
    assert.equal(allowedOrigin(origins, 'https://app.example.com'), 'https://app.example.com');
    assert.equal(allowedOrigin(origins, 'http://localhost:3000'), 'http://localhost:3000');
    assert.equal(allowedOrigin(origins, 'https://evil.example.com'), undefined);
    assert.equal(allowedOrigin(origins, undefined), undefined);
    assert.equal(allowedOrigin(['https://*'], 'https://any.example.org'), 'https://any.example.org');
    assert.equal(allowedOrigin(['https://*'], 'http://any.example.org'), undefined);
    assert.equal(allowedOrigin(['*'], 'http://any.example.org'), '*');
  });

  it("gives the function's middleware the same answer", () => {
    const { getOrigin, origins, ...options } = httpCorsOptions(['https://*']);
    assert.equal(getOrigin?.('https://a.example.com', options), 'https://a.example.com');
    assert.equal(getOrigin?.('http://a.example.com', options), undefined);
    assert.deepEqual(origins, ['https://*']);
    assert.equal(options.exposeHeaders, 'location, preference-applied, retry-after');
  });
});

describe('the configuration table (docs/configuration.md)', () => {
  /** Read by the libraries lib/config.ts calls: @temporalio/envconfig, and Powertools' logger and metrics. */
  const READ_BY_LIBRARIES = [
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'TEMPORAL_API_KEY',
    'TEMPORAL_TLS',
    'TEMPORAL_TLS_CLIENT_CERT_PATH',
    'TEMPORAL_TLS_CLIENT_KEY_PATH',
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    'TEMPORAL_TLS_SERVER_NAME',
    'POWERTOOLS_LOG_LEVEL',
    'POWERTOOLS_DEV',
  ];

  it('names every variable lib/config.ts reads, and no variable nothing reads', async () => {
    const source = await readFile(new URL('../../lib/config.ts', import.meta.url), 'utf8');
    const read = new Set(
      [...source.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'|process\.env\.([A-Z][A-Z0-9_]+)/g)].map(
        ([, quoted, property]) => String(quoted ?? property),
      ),
    );
    const docs = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const start = docs.indexOf('| variable');
    const table = docs.slice(start, docs.indexOf('\n\n', start));
    // The first cell of each row: the variables it names (the others hold defaults and meanings).
    const documented = new Set(
      table
        .split('\n')
        .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)])
        .map((match) => String(match[1])),
    );
    assert.deepEqual(
      [...read].filter((name) => !documented.has(name)),
      [],
      'read but not documented',
    );
    assert.deepEqual(
      [...documented].filter((name) => !read.has(name) && !READ_BY_LIBRARIES.includes(name)),
      [],
      'documented but read by nothing',
    );
  });
});
