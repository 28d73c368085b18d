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

/** What is cached for one secret. */
interface SecretState {
  /** One read in flight per kind, so a batch of concurrent calls after the TTL runs out fetches once. */
  readonly inFlight: Map<boolean, Promise<TemporalCredentials>>;
  lastGood: TemporalCredentials | undefined;
  lastRaw: unknown;
  /** After a failed refresh the last good values are used without asking again until then (epoch ms). */
  retryAt: number;
}

const states = new Map<string, SecretState>();
const RETRY_AFTER_MS = 30_000;

const stateOf = (secretId: string): SecretState => {
  let state = states.get(secretId);
  if (state === undefined) {
    state = { inFlight: new Map(), lastGood: undefined, lastRaw: undefined, retryAt: 0 };
    states.set(secretId, state);
  }
  return state;
};

const fetchCredentials = async (
  secretId: string,
  state: SecretState,
  fresh: boolean,
): Promise<TemporalCredentials> => {
  let raw: unknown;
  try {
    raw = await (await secretsProvider()).get(secretId, {
      maxAge: config().temporal.secretTtlSeconds,
      forceFetch: fresh,
    });
  } catch (error) {
    throw new CredentialsError(`Cannot read the Temporal credentials secret ${secretId}`, { cause: error });
  }
  state.retryAt = 0;
  // The same secret value gives the same object, so callers can tell "unchanged" by identity.
  if (state.lastGood !== undefined && raw === state.lastRaw) return state.lastGood;
  // The validator loads with the first secret read, like the AWS SDK: never in a function without one.
  const { parseCredentials } = await import('./secretValue.ts');
  const credentials = parseCredentials(raw, secretId);
  state.lastGood = credentials;
  state.lastRaw = raw;
  return credentials;
};

/**
 * A credentials secret's values (TEMPORAL_SECRET_ID's, or a workflow type's own `secretId`), or
 * undefined without a secret. Cached for TEMPORAL_SECRET_TTL_SECONDS; `fresh` reads the secret again
 * whatever the cache holds (after the server refused the credentials).
 *
 * When the cached value has expired and the secret cannot be read, the last good values stay in use,
 * so that a Secrets Manager outage does not become a Temporal outage: such a refresh may take half of
 * the time left (the call keeps the other half), and after it fails the secret is not asked again for
 * 30 s.
 */
export const readCredentials = async (
  secretId: string | undefined,
  options: { readonly deadline: number; readonly fresh?: boolean },
): Promise<TemporalCredentials | undefined> => {
  if (secretId === undefined) return undefined;
  const state = stateOf(secretId);
  const fresh = options.fresh ?? false;
  const fallback = fresh ? undefined : state.lastGood;
  if (fallback !== undefined && Date.now() < state.retryAt) return fallback;
  let read = state.inFlight.get(fresh);
  if (read === undefined) {
    read = fetchCredentials(secretId, state, fresh);
    state.inFlight.set(fresh, read);
    const forget = () => {
      if (state.inFlight.get(fresh) === read) state.inFlight.delete(fresh);
    };
    read.then(forget, forget);
  }
  const now = Date.now();
  const deadline = fallback === undefined ? options.deadline : now + (options.deadline - now) / 2;
  try {
    return await beforeDeadline(read, deadline, `the Temporal credentials secret ${secretId}`);
  } catch (error) {
    if (fallback === undefined) throw error;
    state.retryAt = Date.now() + RETRY_AFTER_MS;
    logger.warn('Cannot refresh the Temporal credentials; using the last ones read', { error });
    return fallback;
  }
};

/** Forgets every cached value (tests). */
export const resetCredentials = async (): Promise<void> => {
  const loaded = await provider;
  loaded?.clearCache();
  states.clear();
};
