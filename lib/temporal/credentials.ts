import { config } from '#lib/config.ts';
import { logger } from '#lib/logger.ts';
import { readSecret, resetSecrets } from '#lib/secrets.ts';
import { CredentialsError, type TemporalCredentials } from './credentialsTypes.ts';

export { CredentialsError, type TemporalCredentials } from './credentialsTypes.ts';

/** What is cached for one secret. */
interface SecretState {
  lastGood: TemporalCredentials | undefined;
  /** The last value read, and its parse: a bad value stays refused until the secret changes. */
  lastRaw: unknown;
  parsed: Promise<TemporalCredentials> | undefined;
  /** After a failed refresh the last good values are used without asking again until then (epoch ms). */
  retryAt: number;
}

const states = new Map<string, SecretState>();
const RETRY_AFTER_MS = 30_000;

const stateOf = (secretId: string): SecretState => {
  let state = states.get(secretId);
  if (state === undefined) {
    state = { lastGood: undefined, lastRaw: undefined, parsed: undefined, retryAt: 0 };
    states.set(secretId, state);
  }
  return state;
};

const fetchCredentials = async (
  secretId: string,
  state: SecretState,
  fresh: boolean,
  deadline: number,
): Promise<TemporalCredentials> => {
  let raw: unknown;
  try {
    raw = await readSecret(secretId, { deadline, fresh, maxAgeSeconds: config().temporal.secretTtlSeconds });
  } catch (error) {
    throw new CredentialsError(`Cannot read the Temporal credentials secret ${secretId}`, { cause: error });
  }
  state.retryAt = 0;
  // The same secret value gives the same object, also to concurrent readers, so callers can tell
  // "unchanged" by identity. The validator loads with the first secret read, like the AWS SDK: never
  // in a function without one.
  if (state.parsed === undefined || raw !== state.lastRaw) {
    state.lastRaw = raw;
    state.parsed = import('./secretValue.ts').then(({ parseCredentials }) => parseCredentials(raw, secretId));
  }
  const credentials = await state.parsed;
  state.lastGood = credentials;
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
  const now = Date.now();
  // A refresh with last good values to fall back on takes half the time left; the call keeps the rest.
  const deadline = fallback === undefined ? options.deadline : now + (options.deadline - now) / 2;
  try {
    return await fetchCredentials(secretId, state, fresh, deadline);
  } catch (error) {
    if (fallback === undefined) throw error;
    state.retryAt = Date.now() + RETRY_AFTER_MS;
    logger.warn('Cannot refresh the Temporal credentials; using the last ones read', { error });
    return fallback;
  }
};

/** Forgets every cached value (tests). */
export const resetCredentials = async (): Promise<void> => {
  await resetSecrets();
  states.clear();
};
