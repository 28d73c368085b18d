import { createHmac, timingSafeEqual } from 'node:crypto';
import { secretFromEnv } from '#lib/config.ts';
import { SignatureError, StartFailedError } from '#lib/errors.ts';
import type { HttpRequest } from '#lib/normalize/http.ts';
import type { SecretSource, Signature } from '#lib/routes/schema.ts';

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

const DEFAULT_HEADERS: Readonly<Record<Signature['scheme'], string | undefined>> = {
  github: 'x-hub-signature-256',
  stripe: 'stripe-signature',
  'hmac-sha256': undefined,
};

/** Reads the secret a route names. The AWS SDK is loaded only by routes that keep it in Secrets Manager. */
const secretOf = async (source: SecretSource, route: string, forceFetch = false): Promise<string> => {
  let value: unknown;
  if ('env' in source) {
    value = secretFromEnv(source.env);
  } else {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    const secret = await getSecret(source.secretId, {
      maxAge: SECRET_MAX_AGE_SECONDS,
      forceFetch,
      ...(source.field !== undefined && { transform: 'json' as const }),
    });
    value =
      source.field === undefined ? secret : (secret as Record<string, unknown> | undefined)?.[source.field];
  }
  if (typeof value !== 'string' || value === '') {
    // Not exposed (500): the caller did nothing wrong. The message names where the secret should be, never a value.
    const where = 'env' in source ? `environment variable ${source.env}` : `secret ${source.secretId}`;
    throw new StartFailedError(`Route "${route}": no webhook secret in ${where}`);
  }
  return value;
};

const hmac = (secret: string, ...parts: (string | Buffer)[]): Buffer => {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/** Compares a received hex digest with the expected one in constant time. */
const sameDigest = (expected: Buffer, receivedHex: string): boolean => {
  const received = Buffer.from(receivedHex, 'hex');
  return received.length === expected.length && timingSafeEqual(received, expected);
};

/** `t=1492774577,v1=5257a869...,v0=...` → the timestamp and every v1 signature. */
const parseStripeHeader = (header: string): { timestamp: string | undefined; signatures: string[] } => {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const [key, value = ''] = item.trim().split('=', 2);
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  return { timestamp, signatures };
};

/**
 * Checks a request's signature against a secret, over the raw body bytes. Throws SignatureError.
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 * https://docs.stripe.com/webhooks#verify-manually
 */
const headerName = (signature: Signature): string =>
  signature.header?.toLowerCase() ?? DEFAULT_HEADERS[signature.scheme] ?? '';

export const checkSignature = (
  signature: Signature,
  secret: string,
  request: Pick<HttpRequest, 'headers' | 'rawBody'>,
  nowMs: number,
): void => {
  const name = headerName(signature);
  const header = request.headers[name];
  if (header === undefined) throw new SignatureError(`The ${name} header is missing`);
  const body = request.rawBody ?? Buffer.alloc(0);

  if (signature.scheme === 'stripe') {
    const { timestamp, signatures } = parseStripeHeader(header);
    const seconds = Number(timestamp);
    if (timestamp === undefined || !Number.isInteger(seconds) || signatures.length === 0) {
      throw new SignatureError(`The ${name} header has no timestamp or no v1 signature`);
    }
    const tolerance = signature.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    if (Math.abs(nowMs / 1000 - seconds) > tolerance) {
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
 * Verifies a route's webhook signature, reading its secret first. A signature that does not match a
 * cached Secrets Manager secret is checked once more against a fresh read (see FORCED_READ_INTERVAL_MS),
 * so a rotated secret is picked up at its first use rather than after the cache expires.
 */
export const verifySignature = async (
  signature: Signature,
  route: string,
  request: Pick<HttpRequest, 'headers' | 'rawBody'>,
): Promise<void> => {
  const { secret: source } = signature;
  const secret = await secretOf(source, route);
  try {
    checkSignature(signature, secret, request, Date.now());
  } catch (error) {
    if ('env' in source || request.headers[headerName(signature)] === undefined) throw error;
    const last = lastForcedRead.get(source.secretId) ?? Number.NEGATIVE_INFINITY;
    if (Date.now() - last < FORCED_READ_INTERVAL_MS) throw error;
    lastForcedRead.set(source.secretId, Date.now());
    const fresh = await secretOf(source, route, true);
    if (fresh === secret) throw error;
    checkSignature(signature, fresh, request, Date.now());
  }
};
