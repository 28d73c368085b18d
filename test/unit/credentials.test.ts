import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CredentialsError } from '#lib/temporal/credentials.ts';
import { parseCredentials } from '#lib/temporal/secretValue.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url);

describe('parseCredentials', () => {
  it('reads an API key secret, with the address and namespace it may carry', () => {
    const credentials = parseCredentials(
      JSON.stringify({ apiKey: 'key-1', address: 'ns.a1b2c.tmprl.cloud:7233', namespace: 'ns.a1b2c' }),
      'temporal',
    );
    assert.deepEqual(credentials, {
      apiKey: 'key-1',
      tls: undefined,
      address: 'ns.a1b2c.tmprl.cloud:7233',
      namespace: 'ns.a1b2c',
    });
  });

  it('reads an mTLS secret into the TLS settings the SDK takes, from text or binary', () => {
    const secret = { tlsCert: 'CERT', tlsKey: 'KEY', tlsCa: 'CA', serverName: 'temporal.internal' };
    for (const raw of [JSON.stringify(secret), new TextEncoder().encode(JSON.stringify(secret))]) {
      const { apiKey, tls } = parseCredentials(raw, 'temporal');
      assert.equal(apiKey, undefined);
      assert.deepEqual(tls, {
        clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
        serverRootCACertificate: Buffer.from('CA'),
        serverNameOverride: 'temporal.internal',
      });
    }
  });

  it('rejects a malformed secret with a message that names what is wrong and never quotes it', () => {
    const value = 'sup3r-s3cret-value';
    const cases: [string, RegExp][] = [
      [`{"apiKey": "${value}"`, /is not JSON/],
      [
        JSON.stringify({ apiKey: value, tlsCert: value, tlsKey: value }),
        /either apiKey, or tlsCert and tlsKey/,
      ],
      [JSON.stringify({ tlsCert: value }), /tlsCert and tlsKey go together/],
      [JSON.stringify({ apiKey: value, apikey: value }), /invalid/],
      [JSON.stringify({ apiKey: 42 }), /apiKey: invalid_type/],
    ];
    for (const [raw, message] of cases) {
      assert.throws(
        () => parseCredentials(raw, 'temporal'),
        (error: unknown) => {
          assert.ok(error instanceof CredentialsError);
          assert.match(error.message, message);
          assert.ok(!error.message.includes(value) && !error.message.includes('42'), error.message);
          assert.equal(error.cause, undefined);
          return true;
        },
      );
    }
  });
});

describe('readCredentials', () => {
  it('loads the AWS SDK only once TEMPORAL_SECRET_ID is set, not when a handler is imported', async () => {
    // A fresh process, so that nothing else has loaded the SDK: it records every @aws-sdk module
    // resolved, imports a handler, then reads credentials with and without a secret to read.
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = new Set();
      registerHooks({
        resolve(specifier, context, next) {
          const resolved = next(specifier, context);
          if (resolved.url.includes('/@aws-sdk/')) loaded.add(resolved.url);
          return resolved;
        },
      });
      await import('./functions/http.ts');
      const { readCredentials } = await import('./lib/temporal/credentials.ts');
      const { config, resetConfig } = await import('./lib/config.ts');
      const unset = await readCredentials(config().temporal.secretId, { deadline: Date.now() + 1000 });
      const before = loaded.size;
      process.env.TEMPORAL_SECRET_ID = 'temporal';
      resetConfig();
      const failure = await readCredentials(config().temporal.secretId, { deadline: Date.now() + 2000 }).catch(
        (error) => error.name,
      );
      console.log(JSON.stringify({ unset: unset ?? null, before, after: loaded.size, failure }));
    `;
    // Nothing listens at the endpoint: reading fails, after the SDK was loaded to try.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_MAX_ATTEMPTS: '1',
    };
    delete env.TEMPORAL_SECRET_ID;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env,
      timeout: 20_000,
    });
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    assert.deepEqual(
      { ...outcome, after: outcome.after > 0 },
      { unset: null, before: 0, after: true, failure: 'CredentialsError' },
    );
  });
});
