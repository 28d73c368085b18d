import { createHmac, timingSafeEqual } from 'node:crypto';
import { secretFromEnv } from '#lib/config.ts';
import { SignatureError, WebhookSecretError } from '#lib/errors.ts';
import type { HttpRequest } from '#lib/http/request.ts';
import type { SecretSource, Signature } from '#lib/routes/schema.ts';
import { readSecret } from '#lib/secrets.ts';
import { signatureHeaderOf } from './signatureHeader.ts';

/** Stripe's own default tolerance for a signed timestamp. */
const DEFAULT_TOLERANCE_SECONDS = 300;
/** How long a webhook secret read from Secrets Manager is reused, as AWS's own secrets extension does. */
const SECRET_MAX_AGE_SECONDS = 300;
/**
 * A signature that fails against a cached secret may have been made with a rotated one, so the secret
 * is read again, bypassing the cache; but at most this often per secret, so that a stream of forged
 * requests cannot turn into a stream of Secrets Manager calls.
 */
const FORCED_READ_INTERVAL_MS = 30_000;
const lastForcedRead = new Map<string, number>();

const describeSource = (source: SecretSource): string =>
  'env' in source
    ? `environment variable ${source.env}`
    : `secret ${source.secretId}${source.field === undefined ? '' : ` (field "${source.field}")`}`;

/** The JSON field a route names, from a secret's string; never an error that quotes the string. */
const fieldOf = (secret: unknown, field: string): unknown => {
  if (typeof secret !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(secret);
    return parsed !== null && typeof parsed === 'object'
      ? (parsed as Record<string, unknown>)[field]
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Reads the secret a route names, by `deadline` (epoch ms), through the functions' one secret cache
 * (lib/secrets.ts), which loads the AWS SDK only for routes that keep it in Secrets Manager. Every
 * failure is a WebhookSecretError that names the source and field, never the value: neither a secret
 * that is not the JSON a field needs, nor a read that fails, can put any part of it in a log.
 */
const secretOf = async (
  source: SecretSource,
  route: string,
  deadline: number,
  fresh = false,
): Promise<string> => {
  let value: unknown;
  if ('env' in source) {
    value = secretFromEnv(source.env);
  } else {
    let secret: unknown;
    try {
      secret = await readSecret(source.secretId, { deadline, fresh, maxAgeSeconds: SECRET_MAX_AGE_SECONDS });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      const reason = cause instanceof Error ? cause.name : 'an unknown error';
      throw new WebhookSecretError(
        `Route "${route}": cannot read the webhook ${describeSource(source)} (${reason})`,
      );
    }
    value = source.field === undefined ? secret : fieldOf(secret, source.field);
  }
  if (typeof value !== 'string' || value === '') {
    const shape =
      'env' in source || source.field === undefined ? '' : ', or the secret is not a JSON object with it';
    throw new WebhookSecretError(`Route "${route}": no webhook secret in ${describeSource(source)}${shape}`);
  }
  return value;
};

const hmac = (secret: string, ...parts: (string | Buffer)[]): Buffer => {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/** An HMAC-SHA256 digest in hex: exactly 64 hex digits, nothing before or after. */
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Compares a received hex digest with the expected one in constant time. Anything but exactly 64 hex
 * digits is refused first: `Buffer.from(text, 'hex')` would stop quietly at the first non-hex character.
 */
const sameDigest = (expected: Buffer, receivedHex: string): boolean =>
  SHA256_HEX.test(receivedHex) && timingSafeEqual(Buffer.from(receivedHex, 'hex'), expected);

/** `t=1492774577,v1=5257a869...,v0=...` → the timestamp and every v1 signature, as Stripe's libraries read it: no spaces. */
const parseStripeHeader = (header: string): { timestamp: string | undefined; signatures: string[] } => {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    const key = item.slice(0, at);
    const value = item.slice(at + 1);
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  return { timestamp, signatures };
};

/**
 * Checks a request's signature against a secret, over the raw body bytes. Throws SignatureError.
 * - github: `sha256=<hex>`; GitHub signs no timestamp, so a captured delivery can be replayed: the
 *   workflow ID should come from `X-GitHub-Delivery`, so a replay is a duplicate that starts nothing.
 * - stripe: `t=<unix seconds>,v1=<hex>` over `<t>.<body>`, and `t` within `toleranceSeconds` of now.
 * - hmac-sha256: `<prefix><hex>`; no timestamp either, the same advice as for GitHub.
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 * https://docs.stripe.com/webhooks#verify-manually
 */
export const checkSignature = (
  signature: Signature,
  secret: string,
  request: Pick<HttpRequest, 'headers' | 'rawBody'>,
  nowMs: number,
): void => {
  const name = signatureHeaderOf(signature) ?? '';
  const header = request.headers[name];
  if (header === undefined) throw new SignatureError(`The ${name} header is missing`);
  const body = request.rawBody ?? Buffer.alloc(0);

  if (signature.scheme === 'stripe') {
    const { timestamp, signatures } = parseStripeHeader(header);
    if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) {
      throw new SignatureError(`The ${name} header has no timestamp or no v1 signature`);
    }
    const tolerance = signature.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > tolerance) {
      throw new SignatureError(`The signed timestamp is more than ${tolerance} s away from now`);
    }
    const expected = hmac(secret, `${timestamp}.`, body);
    if (!signatures.some((candidate) => sameDigest(expected, candidate))) {
      throw new SignatureError('The signature does not match');
    }
    return;
  }

  const prefix = signature.scheme === 'github' ? 'sha256=' : (signature.prefix ?? '');
  if (!header.startsWith(prefix) || !sameDigest(hmac(secret, body), header.slice(prefix.length))) {
    throw new SignatureError('The signature does not match');
  }
};

/**
 * Verifies a route's webhook signature, reading its secret first, by `deadline`. A signature that does not match a
 * cached Secrets Manager secret is checked once more against a fresh read (see FORCED_READ_INTERVAL_MS),
 * so a rotated secret is picked up at its first use rather than after the cache expires.
 */
export const verifySignature = async (
  signature: Signature,
  route: string,
  request: Pick<HttpRequest, 'headers' | 'rawBody'>,
  deadline: number,
): Promise<void> => {
  const { secret: source } = signature;
  const secret = await secretOf(source, route, deadline);
  try {
    checkSignature(signature, secret, request, Date.now());
  } catch (error) {
    if ('env' in source || request.headers[signatureHeaderOf(signature) ?? ''] === undefined) throw error;
    const last = lastForcedRead.get(source.secretId) ?? Number.NEGATIVE_INFINITY;
    if (Date.now() - last < FORCED_READ_INTERVAL_MS) throw error;
    lastForcedRead.set(source.secretId, Date.now());
    const fresh = await secretOf(source, route, deadline, true);
    if (fresh === secret) throw error;
    checkSignature(signature, fresh, request, Date.now());
  }
};
