import type { ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

/** The one place that reads the environment. Everything is read once per execution environment. */
export interface Config {
  /** Task queue for workflows whose `workflows` entry names none (`TEMPORAL_TASK_QUEUE`). */
  readonly taskQueue: string | undefined;
  /** A routes file that replaces the bundled one (`ROUTES_FILE`). */
  readonly routesFile: string | undefined;
  /** Time kept back from the invocation's remaining time for answering (`DEADLINE_MARGIN_MS`, default 500). */
  readonly deadlineMarginMs: number;
  /** Upper bound for one call to Temporal (`TEMPORAL_CALL_TIMEOUT_MS`, default 10000). */
  readonly callTimeoutMs: number;
  /** Temporal address, namespace, API key and TLS, from `@temporalio/envconfig`'s variables. */
  readonly temporal: {
    readonly connection: ConnectionOptions;
    readonly namespace: string;
    /** Secrets Manager name or ARN of the credentials secret, whose values override the above (`TEMPORAL_SECRET_ID`). */
    readonly secretId: string | undefined;
    /** How long the secret is cached (`TEMPORAL_SECRET_TTL_SECONDS`, default 300, as AWS's caching extension). */
    readonly secretTtlSeconds: number;
    /** gRPC keepalive ping interval, and the idle time after which a connection is checked before use (`TEMPORAL_KEEPALIVE_TIME_MS`, default 30000). */
    readonly keepaliveTimeMs: number;
    /** How long a keepalive ping, or that check, may go unanswered before the connection counts as dead (`TEMPORAL_KEEPALIVE_TIMEOUT_MS`, default 3000). */
    readonly keepaliveTimeoutMs: number;
  };
}

const positiveInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  }
  return value;
};

const nonEmpty = (name: string): string | undefined => process.env[name] || undefined;

const read = (): Config => {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return {
    taskQueue: nonEmpty('TEMPORAL_TASK_QUEUE'),
    routesFile: nonEmpty('ROUTES_FILE'),
    deadlineMarginMs: positiveInt('DEADLINE_MARGIN_MS', 500),
    callTimeoutMs: positiveInt('TEMPORAL_CALL_TIMEOUT_MS', 10_000),
    temporal: {
      connection: { ...connectionOptions, address: connectionOptions.address ?? 'localhost:7233' },
      namespace: namespace ?? 'default',
      secretId: nonEmpty('TEMPORAL_SECRET_ID'),
      secretTtlSeconds: positiveInt('TEMPORAL_SECRET_TTL_SECONDS', 300),
      keepaliveTimeMs: positiveInt('TEMPORAL_KEEPALIVE_TIME_MS', 30_000),
      keepaliveTimeoutMs: positiveInt('TEMPORAL_KEEPALIVE_TIMEOUT_MS', 3_000),
    },
  };
};

let cached: Config | undefined;

export const config = (): Config => {
  cached ??= read();
  return cached;
};

/** Forgets the configuration, for tests that change the environment. */
export const resetConfig = (): void => {
  cached = undefined;
};
