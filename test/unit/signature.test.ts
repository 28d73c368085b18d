import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignatureError } from '#lib/errors.ts';
import { checkSignature } from '#lib/http/signature.ts';

const SECRET = 'whsec_test';
const body = Buffer.from('{"action":"opened","number":1}');
const hex = (...parts: (string | Buffer)[]) => {
  const mac = createHmac('sha256', SECRET);
  for (const part of parts) mac.update(part);
  return mac.digest('hex');
};
const NOW = 1_795_978_800_000;

describe('checkSignature', () => {
  describe('github', () => {
    const github = { scheme: 'github', secret: { env: 'X' } } as const;
    const check = (header: string | undefined, raw = body) =>
      checkSignature(
        github,
        SECRET,
        { headers: header === undefined ? {} : { 'x-hub-signature-256': header }, rawBody: raw },
        NOW,
      );

    it('accepts sha256=<hex> over the raw body', () => {
      assert.doesNotThrow(() => check(`sha256=${hex(body)}`));
    });

    it('refuses a wrong, truncated, unprefixed or missing signature, and a changed body', () => {
      assert.throws(() => check(`sha256=${hex(Buffer.from('other'))}`), SignatureError);
      assert.throws(() => check(`sha256=${hex(body).slice(0, 20)}`), SignatureError);
      assert.throws(() => check(hex(body)), SignatureError);
      assert.throws(() => check('sha256=not-hex'), SignatureError);
      assert.throws(() => check(undefined), /x-hub-signature-256 header is missing/);
      assert.throws(
        () => check(`sha256=${hex(body)}`, Buffer.from(' {"action":"opened","number":1}')),
        SignatureError,
      );
    });
  });

  describe('stripe', () => {
    const stripe = { scheme: 'stripe', secret: { env: 'X' }, toleranceSeconds: 300 } as const;
    const seconds = String(NOW / 1000);
    const check = (header: string, now = NOW) =>
      checkSignature(stripe, SECRET, { headers: { 'stripe-signature': header }, rawBody: body }, now);

    it('accepts any v1 signature of "<t>.<body>" within the tolerance', () => {
      const good = hex(`${seconds}.`, body);
      assert.doesNotThrow(() => check(`t=${seconds},v1=${good}`));
      assert.doesNotThrow(() => check(`t=${seconds},v1=${'0'.repeat(64)},v1=${good},v0=abc`));
      assert.doesNotThrow(() => check(`t=${seconds},v1=${good}`, NOW + 299_000));
    });

    it('refuses an old timestamp, a signature of another timestamp, and a header without parts', () => {
      const good = hex(`${seconds}.`, body);
      assert.throws(() => check(`t=${seconds},v1=${good}`, NOW + 301_000), /300 s/);
      assert.throws(() => check(`t=${Number(seconds) + 1},v1=${good}`), SignatureError);
      assert.throws(() => check(`v1=${good}`), SignatureError);
      assert.throws(() => check(`t=${seconds}`), SignatureError);
    });
  });

  it('hmac-sha256: reads the named header and prefix', () => {
    const custom = {
      scheme: 'hmac-sha256',
      secret: { env: 'X' },
      header: 'X-Signature',
      prefix: 'v1:',
    } as const;
    const request = (value: string) => ({ headers: { 'x-signature': value }, rawBody: body });
    assert.doesNotThrow(() => checkSignature(custom, SECRET, request(`v1:${hex(body)}`), NOW));
    assert.throws(() => checkSignature(custom, SECRET, request(hex(body)), NOW), SignatureError);
    assert.throws(
      () => checkSignature(custom, 'other-secret', request(`v1:${hex(body)}`), NOW),
      SignatureError,
    );
  });

  describe('parses strictly: exactly 64 hex digits, nothing before or after, in every scheme', () => {
    const good = hex(body);
    const stamped = hex(`${NOW / 1000}.`, body);
    const mangled = (digest: string) => [
      `${digest}ZZ`,
      `${digest}0`,
      `${digest} `,
      ` ${digest}`,
      digest.slice(0, 63),
      `${digest.slice(0, 62)}zz`,
      `${digest}${digest}`,
    ];
    const schemes = {
      github: (value: string) =>
        checkSignature(
          { scheme: 'github', secret: { env: 'X' } },
          SECRET,
          { headers: { 'x-hub-signature-256': `sha256=${value}` }, rawBody: body },
          NOW,
        ),
      stripe: (value: string) =>
        checkSignature(
          { scheme: 'stripe', secret: { env: 'X' } },
          SECRET,
          { headers: { 'stripe-signature': `t=${NOW / 1000},v1=${value}` }, rawBody: body },
          NOW,
        ),
      'hmac-sha256': (value: string) =>
        checkSignature(
          { scheme: 'hmac-sha256', secret: { env: 'X' }, header: 'x-sig' },
          SECRET,
          { headers: { 'x-sig': value }, rawBody: body },
          NOW,
        ),
    };

    for (const [scheme, check] of Object.entries(schemes)) {
      it(`${scheme}: refuses a valid digest with anything added, removed or changed`, () => {
        const digest = scheme === 'stripe' ? stamped : good;
        assert.doesNotThrow(() => check(digest));
        assert.doesNotThrow(() => check(digest.toUpperCase()), 'hex digits in either case');
        for (const value of mangled(digest))
          assert.throws(() => check(value), SignatureError, JSON.stringify(value));
      });
    }

    it('stripe: refuses a timestamp that is not a whole number of seconds', () => {
      for (const t of [`${NOW / 1000}.5`, `${NOW / 1000}x`, `+${NOW / 1000}`, '']) {
        const value = `t=${t},v1=${hex(`${t}.`, body)}`;
        assert.throws(
          () =>
            checkSignature(
              { scheme: 'stripe', secret: { env: 'X' } },
              SECRET,
              { headers: { 'stripe-signature': value }, rawBody: body },
              NOW,
            ),
          SignatureError,
          value,
        );
      }
    });
  });
});
