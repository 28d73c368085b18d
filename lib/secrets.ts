import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { cached } from '#lib/cache.ts';

/**
 * Secrets Manager reads, for every secret the functions use: the Temporal credentials and webhook
 * secrets alike, with the same guarantees.
 *
 * - Powertools' SecretsProvider, loaded at the first read only: a function without a secret never
 *   loads the AWS SDK. It caches each value for `maxAgeSeconds`; `fresh` bypasses that cache.
 * - The AWS SDK sets no request timeout by default, and a keep-alive socket can go stale while Lambda
 *   is frozen, so one is set here: a hung request gives way to the SDK's own retry.
 * - Every read is bounded by the caller's deadline, so a slow Secrets Manager costs the invocation
 *   an error it can answer with, never its whole timeout.
 * - Concurrent reads of one secret (a batch whose records all need it) share one request.
 */
const provider = cached(() =>
  import('@aws-lambda-powertools/parameters/secrets').then(
    (secrets): SecretsProvider =>
      new secrets.SecretsProvider({
        clientConfig: { requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } },
      }),
  ),
);

/** A read failed or ran out of time. The message names the secret, never any part of its value. */
export class SecretReadError extends Error {
  override readonly name = 'SecretReadError';
}

export interface SecretReadOptions {
  /** Epoch ms by which the read must be done. */
  readonly deadline: number;
  /** How long a value read is reused. */
  readonly maxAgeSeconds: number;
  /** Read again whatever the cache holds (after a refused credential or a failed signature). */
  readonly fresh?: boolean;
}

const inFlight = new Map<string, Promise<unknown>>();

const beforeDeadline = <T>(promise: Promise<T>, deadline: number, secretId: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SecretReadError(`Timed out reading the secret ${secretId}`)),
      Math.max(deadline - Date.now(), 0),
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/** The secret's value: a string, or bytes for a binary secret. */
export const readSecret = (secretId: string, options: SecretReadOptions): Promise<unknown> => {
  const fresh = options.fresh ?? false;
  const key = `${fresh}\n${secretId}`;
  let read = inFlight.get(key);
  if (read === undefined) {
    const started = provider().then((secrets) =>
      secrets.get(secretId, { maxAge: options.maxAgeSeconds, forceFetch: fresh }),
    );
    const forget = () => {
      if (inFlight.get(key) === started) inFlight.delete(key);
    };
    started.then(forget, forget);
    inFlight.set(key, started);
    read = started;
  }
  return beforeDeadline(read, options.deadline, secretId).catch((error: unknown) => {
    if (error instanceof SecretReadError) throw error;
    throw new SecretReadError(`Cannot read the secret ${secretId}`, { cause: error });
  });
};

/** Forgets every value read, and the client, which took its endpoint from the environment (tests). */
export const resetSecrets = async (): Promise<void> => {
  inFlight.clear();
  const loaded = await provider().catch(() => undefined);
  loaded?.clearCache();
  provider.reset();
};
