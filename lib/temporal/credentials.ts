import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { TLSConfig } from '@temporalio/client';
import { config } from '#lib/config.ts';
import { logger } from '#lib/logger.ts';

/** What the credentials secret says. Its values override the environment's. */
export interface TemporalCredentials {
  readonly apiKey: string | undefined;
  /** Client certificate (mTLS) and server verification settings, when the secret has any. */
  readonly tls: TLSConfig | undefined;
  readonly address: string | undefined;
  readonly namespace: string | undefined;
}

/**
 * Reading failed. The message never quotes the secret: a parse error names fields and rules only,
 * and carries no cause (JSON.parse and zod quote the input they choke on).
 */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

let provider: Promise<SecretsProvider> | undefined;

/**
 * Powertools' SecretsProvider, loaded on first use only: a function without TEMPORAL_SECRET_ID never
 * loads the AWS SDK. It caches each value for maxAge seconds; `forceFetch` bypasses that cache.
 * The SDK sets no request timeout by default, and a keep-alive socket can go stale while Lambda is
 * frozen, so one is set here: a hung request gives way to the SDK's own retry instead of the invocation.
 */
const secretsProvider = (): Promise<SecretsProvider> => {
  provider ??= import('@aws-lambda-powertools/parameters/secrets').then(
    (secrets) =>
      new secrets.SecretsProvider({
        clientConfig: { requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } },
      }),
  );
  return provider;
};

const beforeDeadline = <T>(promise: Promise<T>, deadline: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CredentialsError(`Timed out reading ${what}`)),
      Math.max(deadline - Date.now(), 0),
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

// One read in flight per kind, so a batch of concurrent calls after the TTL runs out fetches once.
const inFlight = new Map<boolean, Promise<TemporalCredentials>>();
let lastGood: TemporalCredentials | undefined;
let lastRaw: unknown;
// After a failed refresh the last good values are used without asking again until then (epoch ms).
let retryAt = 0;
const RETRY_AFTER_MS = 30_000;

const fetchCredentials = async (secretId: string, fresh: boolean): Promise<TemporalCredentials> => {
  let raw: unknown;
  try {
    raw = await (await secretsProvider()).get(secretId, {
      maxAge: config().temporal.secretTtlSeconds,
      forceFetch: fresh,
    });
  } catch (error) {
    throw new CredentialsError(`Cannot read the Temporal credentials secret ${secretId}`, { cause: error });
  }
  retryAt = 0;
  // The same secret value gives the same object, so callers can tell "unchanged" by identity.
  if (lastGood !== undefined && raw === lastRaw) return lastGood;
  // The validator loads with the first secret read, like the AWS SDK: never in a function without one.
  const { parseCredentials } = await import('./secretValue.ts');
  const credentials = parseCredentials(raw, secretId);
  lastGood = credentials;
  lastRaw = raw;
  return credentials;
};

/**
 * The credentials secret's values, or undefined when TEMPORAL_SECRET_ID is unset. Cached for
 * TEMPORAL_SECRET_TTL_SECONDS; `fresh` reads the secret again whatever the cache holds (after the
 * server refused the credentials).
 *
 * When the cached value has expired and the secret cannot be read, the last good values stay in use,
 * so that a Secrets Manager outage does not become a Temporal outage: such a refresh may take half of
 * the time left (the call keeps the other half), and after it fails the secret is not asked again for
 * 30 s.
 */
export const readCredentials = async (options: {
  readonly deadline: number;
  readonly fresh?: boolean;
}): Promise<TemporalCredentials | undefined> => {
  const { secretId } = config().temporal;
  if (secretId === undefined) return undefined;
  const fresh = options.fresh ?? false;
  const fallback = fresh ? undefined : lastGood;
  if (fallback !== undefined && Date.now() < retryAt) return fallback;
  let read = inFlight.get(fresh);
  if (read === undefined) {
    read = fetchCredentials(secretId, fresh);
    inFlight.set(fresh, read);
    const forget = () => {
      if (inFlight.get(fresh) === read) inFlight.delete(fresh);
    };
    read.then(forget, forget);
  }
  const now = Date.now();
  const deadline = fallback === undefined ? options.deadline : now + (options.deadline - now) / 2;
  try {
    return await beforeDeadline(read, deadline, `the Temporal credentials secret ${secretId}`);
  } catch (error) {
    if (fallback === undefined) throw error;
    retryAt = Date.now() + RETRY_AFTER_MS;
    logger.warn('Cannot refresh the Temporal credentials; using the last ones read', { error });
    return fallback;
  }
};

/** Forgets every cached value (tests). */
export const resetCredentials = async (): Promise<void> => {
  const loaded = await provider;
  loaded?.clearCache();
  inFlight.clear();
  lastGood = undefined;
  lastRaw = undefined;
  retryAt = 0;
};
