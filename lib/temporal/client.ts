import { createHash } from 'node:crypto';
import {
  Client,
  type ConnectionOptions,
  type TLSConfig,
  type WorkflowClientInterceptor,
} from '@temporalio/client';
import {
  defaultFailureConverter,
  defaultPayloadConverter,
  type FailureConverter,
  type LoadedDataConverter,
  type PayloadCodec,
  type PayloadConverter,
} from '@temporalio/common';
import { config } from '#lib/config.ts';
import { logger } from '#lib/logger.ts';
import { countConnectionEvent } from '#lib/metrics.ts';
import type { TemporalTarget } from '#lib/normalize/types.ts';
import { readCredentials, resetCredentials } from '#lib/temporal/credentials.ts';
import { onServerAnswer, retryWithinDeadline } from '#lib/temporal/interceptors.ts';
import { TemporalConnection } from '#lib/temporal/TemporalConnection.ts';
import { traceInterceptor } from '#lib/temporal/trace.ts';
import { wireInterceptor } from '#lib/temporal/wire.ts';
import * as clientModule from '#temporal-client-module';

/** The connection and client shared by every invocation of this execution environment, per target. */
export interface Temporal {
  readonly connection: TemporalConnection;
  readonly client: Client;
  readonly namespace: string;
}

/** Where and how to connect: the environment's settings, with the secret's and the target's on top. */
interface Endpoint {
  readonly options: ConnectionOptions;
  readonly apiKey: string | undefined;
  readonly namespace: string;
  /** A digest of everything but the API key: when it changes, only a new connection will do. */
  readonly identity: string;
}

/** The connections of one target: the cached one, and what it was made from. */
interface Pool {
  readonly target: TemporalTarget;
  /** The last endpoint made, and what it was made from: every call asks, and the inputs rarely change. */
  made: { settings: unknown; secret: unknown; endpoint: Endpoint } | undefined;
  current: Promise<Live> | undefined;
  generation: number;
}

/** A live connection, with what it was made from and when the server last answered on it. */
export interface Live extends Temporal {
  readonly pool: Pool;
  readonly identity: string;
  apiKey: string | undefined;
  /** Epoch ms of the server's last answer on this connection. */
  lastAnswer: number;
  /**
   * A call on it timed out or found it unavailable, and the server has not answered since: the next
   * call on it is cut if the connection stays silent (see `callTemporal`).
   */
  suspect: boolean;
  /** Which connect attempt of its pool made it. */
  readonly generation: number;
  /** Replaced: handed out no more, and closed once the calls already on it have ended. */
  retired: boolean;
  /** Calls in flight on it (see `onConnection`). */
  calls: number;
  /** Set once it is retired with calls in flight: called when the last of them ends. */
  idle: (() => void) | undefined;
}

/**
 * What the project's client module gives every Client: a payload converter, failure converter and
 * payload codecs (the data converter a worker gets from `payloadConverterPath` and `payloadCodecs`),
 * and WorkflowClient interceptors. The build bundles the module `--client-module` names in place of
 * lib/temporal/noClientModule.ts; without one, the SDK's defaults apply.
 */
export interface ClientModule {
  readonly payloadConverter?: PayloadConverter;
  readonly failureConverter?: FailureConverter;
  readonly payloadCodecs?: PayloadCodec[];
  readonly interceptors?: WorkflowClientInterceptor[];
}

const extension: ClientModule = clientModule;

const dataConverter: LoadedDataConverter = {
  payloadConverter: extension.payloadConverter ?? defaultPayloadConverter,
  failureConverter: extension.failureConverter ?? defaultFailureConverter,
  payloadCodecs: extension.payloadCodecs ?? [],
};

const mergeTls = (env: ConnectionOptions['tls'], secret: TLSConfig | undefined): ConnectionOptions['tls'] => {
  if (secret === undefined) return env;
  return { ...(typeof env === 'object' && env !== null ? env : {}), ...secret };
};

const pools = new Map<string, Pool>();

const poolOf = (target: TemporalTarget): Pool => {
  const key = `${target.namespace ?? ''}\n${target.address ?? ''}\n${target.secretId ?? ''}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = { target, made: undefined, current: undefined, generation: 0 };
    pools.set(key, pool);
  }
  return pool;
};

const endpointOf = async (pool: Pool, deadline: number, fresh: boolean): Promise<Endpoint> => {
  const settings = config().temporal;
  const secret = await readCredentials(pool.target.secretId ?? settings.secretId, { deadline, fresh });
  const { made } = pool;
  if (made !== undefined && made.settings === settings && made.secret === secret) return made.endpoint;
  const endpoint = build(pool.target, settings, secret);
  pool.made = { settings, secret, endpoint };
  return endpoint;
};

/**
 * The endpoint of a target. A workflow type's own namespace and address win; then the secret's (the
 * secret's address and namespace override the environment's, so one secret can move a deployment);
 * then the environment's. The secret's API key or certificate wins over the environment's.
 */
const build = (
  target: TemporalTarget,
  settings: ReturnType<typeof config>['temporal'],
  secret: Awaited<ReturnType<typeof readCredentials>>,
): Endpoint => {
  const { connection: env, namespace: envNamespace, keepaliveTimeMs, keepaliveTimeoutMs } = settings;
  const { apiKey: envApiKey, ...rest } = env;
  const apiKey =
    secret === undefined ? (typeof envApiKey === 'string' ? envApiKey : undefined) : secret.apiKey;
  const address = target.address ?? secret?.address ?? rest.address;
  const namespace = target.namespace ?? secret?.namespace ?? envNamespace;
  const tls = mergeTls(rest.tls, secret?.tls);
  const options: ConnectionOptions = {
    ...rest,
    address,
    tls,
    channelArgs: {
      ...rest.channelArgs,
      'grpc.keepalive_time_ms': keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': keepaliveTimeoutMs,
      // grpc-js shares subchannels (the TCP connections) between channels to the same target by
      // default: a new connection would then reuse the stale transport it is meant to replace, or
      // one still backing off after a refused connect.
      'grpc.use_local_subchannel_pool': 1,
    },
  };
  // With an API key and no TLS settings the SDK turns TLS on, so whether there is a key is identity too.
  const identity = createHash('sha256')
    .update(JSON.stringify({ address, namespace, tls, withApiKey: apiKey !== undefined }))
    .digest('hex');
  return { options, apiKey, namespace, identity };
};

const open = async (pool: Pool, wanted: Endpoint, deadline: number, generation: number): Promise<Live> => {
  const bookkeeping = { lastAnswer: Date.now(), suspect: false };
  const connection = await TemporalConnection.open(
    {
      ...wanted.options,
      ...(wanted.apiKey !== undefined && { apiKey: wanted.apiKey }),
      interceptors: [
        // First: it must see each call once, in its caller's context (see wire.ts).
        wireInterceptor(),
        retryWithinDeadline(),
        onServerAnswer(() => {
          bookkeeping.lastAnswer = Date.now();
          bookkeeping.suspect = false;
        }),
      ],
    },
    deadline,
  );
  const client = new Client({
    connection,
    namespace: wanted.namespace,
    dataConverter,
    // The trace header comes last, so a trace the user's interceptors wrote stands (see trace.ts).
    interceptors: { workflow: [...(extension.interceptors ?? []), traceInterceptor()] },
  });
  return Object.assign(bookkeeping, {
    pool,
    connection,
    client,
    namespace: wanted.namespace,
    identity: wanted.identity,
    apiKey: wanted.apiKey,
    generation,
    retired: false,
    calls: 0,
    idle: undefined,
  });
};

/**
 * Connects. When the secret supplies the credentials and the connect fails (a TLS handshake refused
 * after a certificate rotation), the secret is read once more, bypassing the cache, and the connect
 * is tried again if it changed. A rotated API key shows only on the first call, which `callTemporal`
 * handles the same way.
 */
const connect = async (pool: Pool, wanted: Endpoint, deadline: number, generation: number): Promise<Live> => {
  try {
    return await open(pool, wanted, deadline, generation);
  } catch (error) {
    const secretId = pool.target.secretId ?? config().temporal.secretId;
    if (secretId === undefined || Date.now() >= deadline) throw error;
    const again = await endpointOf(pool, deadline, true).catch(() => undefined);
    if (again === undefined || (again.identity === wanted.identity && again.apiKey === wanted.apiKey)) {
      throw error;
    }
    logger.warn('Cannot connect to Temporal with the cached credentials; connecting with the current ones');
    countConnectionEvent('CredentialRefreshes');
    return open(pool, again, deadline, generation);
  }
};

/** Starts a connect attempt and caches it. A rejected attempt is forgotten: the next call connects again. */
const install = (pool: Pool, wanted: Endpoint, deadline: number): Promise<Live> => {
  pool.generation += 1;
  const attempt = connect(pool, wanted, deadline, pool.generation);
  pool.current = attempt;
  attempt.catch(() => {
    if (pool.current === attempt) pool.current = undefined;
  });
  return attempt;
};

/** Connections retired and not yet closed: `closeTemporal` waits for them. */
const closing = new Set<Promise<void>>();

/**
 * Runs one call on a connection, counted, so that a retired connection is closed only after its last
 * call has ended. A call can outlive the decision to replace its connection: the SDK's retry
 * interceptor keeps the next attempt of a call in a timer, and an attempt made on a closed channel
 * throws from that timer, outside any promise, which ends the execution environment. So every call
 * ends on its own connection, through its own promise, within its own deadline.
 */
export const onConnection = async <T>(live: Live, call: (live: Live) => Promise<T>): Promise<T> => {
  live.calls += 1;
  try {
    return await call(live);
  } finally {
    live.calls -= 1;
    if (live.calls === 0) live.idle?.();
  }
};

/**
 * Stops handing a connection out, and closes it once no call is on it any more. Synchronous up to
 * there, so only one caller retires it.
 */
const retire = (live: Live): void => {
  live.retired = true;
  if (live.generation === live.pool.generation) live.pool.current = undefined;
  const idle = live.calls === 0 ? Promise.resolve() : new Promise<void>((resolve) => (live.idle = resolve));
  const closed = idle
    .then(() => live.connection.close())
    .catch((error: unknown) => logger.warn('Closing a retired Temporal connection failed', { error }))
    .finally(() => closing.delete(closed));
  closing.add(closed);
};

const follow = (live: Live, wanted: Endpoint, deadline: number): Live | Promise<Live> => {
  if (live.identity !== wanted.identity) {
    if (!live.retired) {
      logger.info('Temporal connection settings changed: reconnecting');
      countConnectionEvent('ConnectionReplacements');
      retire(live);
    }
    return live.pool.current ?? install(live.pool, wanted, deadline);
  }
  if (live.apiKey !== wanted.apiKey && wanted.apiKey !== undefined) {
    // A new API key goes into the next request's metadata; the connection stays.
    live.connection.setApiKey(wanted.apiKey);
    live.apiKey = wanted.apiKey;
  }
  return live;
};

/**
 * The cached connection to a target (a workflow type's namespace; the environment's by default),
 * connecting on first use. Connections are expensive and meant to be reused, so one per target lives
 * in module scope across warm invocations. When the credentials secret names a different address,
 * namespace or certificate, it is replaced; a new API key is applied to it.
 */
export const acquire = async (target: TemporalTarget, deadline: number): Promise<Live> => {
  const pool = poolOf(target);
  const wanted = await endpointOf(pool, deadline, false);
  for (;;) {
    if (pool.current === undefined) return install(pool, wanted, deadline);
    const live = await pool.current;
    // Replaced while this caller waited: `current` has moved on to its successor.
    if (!live.retired) return follow(live, wanted, deadline);
  }
};

/**
 * After the server refused the credentials: reads the secret again, bypassing its cache, and applies
 * what changed. Undefined when nothing did, so the refusal stands.
 */
export const refreshCredentials = async (live: Live, deadline: number): Promise<Live | undefined> => {
  const wanted = await endpointOf(live.pool, deadline, true);
  if (wanted.identity === live.identity && wanted.apiKey === live.apiKey) return undefined;
  logger.info('Temporal refused the cached credentials; using the current ones from the secret');
  countConnectionEvent('CredentialRefreshes');
  return follow(live, wanted, deadline);
};

/** Closes a connection that failed, and connects afresh (once, however many callers ask). */
export const replace = (live: Live, reason: string, deadline: number): Promise<Live> => {
  if (!live.retired) {
    logger.warn('Replacing the Temporal connection', { reason });
    countConnectionEvent('ConnectionReplacements');
    retire(live);
  }
  return acquire(live.pool.target, deadline);
};

/**
 * Closes and forgets every cached connection and the credentials (tests, and local tools that exit).
 * Calls still in flight end first, each on its own connection; connections retired earlier close too.
 */
export const closeTemporal = async (): Promise<void> => {
  const cached = [...pools.values()].map((pool) => pool.current);
  pools.clear();
  for (const pending of cached) {
    const live = await pending?.catch(() => undefined);
    if (live !== undefined && !live.retired) retire(live);
  }
  await Promise.all(closing);
  await resetCredentials();
};
