import { getBooleanFromEnv, isDevMode } from '@aws-lambda-powertools/commons/utils/env';
import type { ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { cached } from '#lib/cache.ts';
import { checkCorsOrigins } from '#lib/http/cors.ts';

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
  /** A start is not attempted with less time than this left before the deadline (`MIN_START_TIME_MS`, default 1000). */
  readonly minStartTimeMs: number;
  /** Records of one SQS batch started at the same time (`SQS_CONCURRENCY`, default 10). */
  readonly sqsConcurrency: number;
  /** Largest HTTP request body accepted, in bytes after base64 decoding (`HTTP_MAX_BODY_BYTES`, default 1 MiB). */
  readonly maxBodyBytes: number;
  /**
   * Origins answered with CORS headers (`CORS_ALLOW_ORIGINS`, comma-separated); none when unset. Each is
   * an exact origin, `*` or `https://*`, as the HTTP API takes them (lib/http/cors.ts).
   */
  readonly corsAllowOrigins: readonly string[];
  /** Whether the http function serves its OpenAPI document at GET /openapi.json (`HTTP_OPENAPI`, default off). */
  readonly openapi: boolean;
  /**
   * CloudWatch metrics in embedded metric format (lib/metrics.ts), under Powertools Metrics' variables:
   * on unless `POWERTOOLS_METRICS_DISABLED` is true (or, with it unset, `POWERTOOLS_DEV` is), in
   * `POWERTOOLS_METRICS_NAMESPACE` (default TemporalTriggers), for `POWERTOOLS_SERVICE_NAME`.
   */
  readonly metrics: {
    readonly enabled: boolean;
    readonly namespace: string;
    readonly service: string;
  };
  /** Temporal address, namespace, API key and TLS, from `@temporalio/envconfig`'s variables. */
  readonly temporal: {
    readonly connection: ConnectionOptions;
    readonly namespace: string;
    /** Secrets Manager name or ARN of the credentials secret, whose values override the above (`TEMPORAL_SECRET_ID`). */
    readonly secretId: string | undefined;
    /** How long the secret is cached (`TEMPORAL_SECRET_TTL_SECONDS`, default 300, as AWS's caching extension). */
    readonly secretTtlSeconds: number;
    /** gRPC keepalive ping interval: the first call after a longer idle gap goes with a ping (`TEMPORAL_KEEPALIVE_TIME_MS`, default 30000). */
    readonly keepaliveTimeMs: number;
    /** How long a keepalive ping, or a connection whose last call failed, may go unanswered before the connection counts as dead (`TEMPORAL_KEEPALIVE_TIMEOUT_MS`, default 3000). */
    readonly keepaliveTimeoutMs: number;
  };
}

const positiveInt = (name: string, fallback: number, unit: string): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive whole number of ${unit}, got "${raw}"`);
  }
  return value;
};

const list = (name: string): string[] =>
  (process.env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const nonEmpty = (name: string): string | undefined => process.env[name] || undefined;

/** true, 1, yes, on or false, 0, no, off (Powertools' extended parsing); unset or empty is off. */
const flag = (name: string): boolean =>
  nonEmpty(name) !== undefined && getBooleanFromEnv({ key: name, extendedParsing: true });

/** Whether Powertools Metrics publishes: POWERTOOLS_METRICS_DISABLED when set, else not in POWERTOOLS_DEV. */
const metricsEnabled = (): boolean =>
  process.env.POWERTOOLS_METRICS_DISABLED === undefined
    ? !isDevMode()
    : !getBooleanFromEnv({ key: 'POWERTOOLS_METRICS_DISABLED', defaultValue: false, extendedParsing: true });

const read = (): Config => {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return {
    taskQueue: nonEmpty('TEMPORAL_TASK_QUEUE'),
    routesFile: nonEmpty('ROUTES_FILE'),
    deadlineMarginMs: positiveInt('DEADLINE_MARGIN_MS', 500, 'milliseconds'),
    callTimeoutMs: positiveInt('TEMPORAL_CALL_TIMEOUT_MS', 10_000, 'milliseconds'),
    minStartTimeMs: positiveInt('MIN_START_TIME_MS', 1000, 'milliseconds'),
    sqsConcurrency: positiveInt('SQS_CONCURRENCY', 10, 'records'),
    maxBodyBytes: positiveInt('HTTP_MAX_BODY_BYTES', 1024 * 1024, 'bytes'),
    corsAllowOrigins: checkCorsOrigins(list('CORS_ALLOW_ORIGINS'), 'CORS_ALLOW_ORIGINS'),
    openapi: flag('HTTP_OPENAPI'),
    metrics: {
      enabled: metricsEnabled(),
      namespace: nonEmpty('POWERTOOLS_METRICS_NAMESPACE') ?? 'TemporalTriggers',
      service: nonEmpty('POWERTOOLS_SERVICE_NAME') ?? 'temporal-triggers',
    },
    temporal: {
      connection: { ...connectionOptions, address: connectionOptions.address ?? 'localhost:7233' },
      namespace: namespace ?? 'default',
      secretId: nonEmpty('TEMPORAL_SECRET_ID'),
      secretTtlSeconds: positiveInt('TEMPORAL_SECRET_TTL_SECONDS', 300, 'seconds'),
      keepaliveTimeMs: positiveInt('TEMPORAL_KEEPALIVE_TIME_MS', 30_000, 'milliseconds'),
      keepaliveTimeoutMs: positiveInt('TEMPORAL_KEEPALIVE_TIMEOUT_MS', 3_000, 'milliseconds'),
    },
  };
};

/** The configuration, read at first use; a bad environment fails each use until it is fixed. */
export const config = cached(read);

/**
 * A webhook secret kept in an environment variable that a route names. Read per call, not cached:
 * it is one lookup, and a secret is then never held by the configuration object.
 */
export const secretFromEnv = (name: string): string | undefined => process.env[name] || undefined;

/** Forgets the configuration, for tests that change the environment. */
export const resetConfig = (): void => config.reset();
