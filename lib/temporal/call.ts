import { status } from '@grpc/grpc-js';
import { config } from '#lib/config.ts';
import { DeadlineExceededError, isTriggerError, TemporalUnavailableError } from '#lib/errors.ts';
import type { TemporalTarget } from '#lib/normalize/types.ts';
import {
  acquire,
  type Live,
  onConnection,
  refreshCredentials,
  replace,
  type Temporal,
} from '#lib/temporal/client.ts';
import { grpcCodeOf } from '#lib/temporal/errors.ts';

const LOCAL_FAILURES = new Set<number | undefined>([
  status.DEADLINE_EXCEEDED,
  status.UNAVAILABLE,
  status.CANCELLED,
  undefined,
]);

/** One GetSystemInfo call: any answer from the server, even a refusal, proves the connection works. */
const answers = async (live: Live, deadline: number): Promise<boolean> => {
  try {
    await onConnection(live, ({ connection }) =>
      connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({})),
    );
    return true;
  } catch (error) {
    return !LOCAL_FAILURES.has(grpcCodeOf(error));
  }
};

/**
 * A Lambda process is frozen between invocations, so gRPC keepalive pings stop, and a connection
 * that a NAT gateway or load balancer dropped in the meantime still looks READY: calls on it hang
 * (https://github.com/grpc/grpc-node/issues/2285, https://github.com/grpc/grpc-node/issues/2664).
 * So a connection that has not heard from the server for longer than the keepalive time, or whose
 * last call timed out, gets the check a keepalive ping would have made, with the keepalive timeout,
 * before it carries the real call. A failed check, or a channel already down, means a new connection.
 */
const verified = async (live: Live, deadline: number): Promise<Live> => {
  if (live.connection.failed) return replace(live, 'the channel is down', deadline);
  const { keepaliveTimeMs, keepaliveTimeoutMs } = config().temporal;
  const idleMs = Date.now() - live.lastAnswer;
  if (!live.suspect && idleMs <= keepaliveTimeMs) return live;
  if (live.check === undefined) {
    const check = answers(live, Math.min(deadline, Date.now() + keepaliveTimeoutMs));
    live.check = check;
    void check.finally(() => {
      if (live.check === check) live.check = undefined;
    });
  }
  if (await live.check) {
    live.suspect = false;
    return live;
  }
  return replace(live, `no answer within ${keepaliveTimeoutMs} ms after ${idleMs} ms idle`, deadline);
};

/** The connection to use now, or a TriggerError that says why there is none. */
const ready = async (target: TemporalTarget, deadline: number): Promise<Live> => {
  if (deadline <= Date.now()) {
    throw new DeadlineExceededError('No time left in the invocation to call Temporal');
  }
  try {
    return await verified(await acquire(target, deadline), deadline);
  } catch (error) {
    if (isTriggerError(error)) throw error;
    throw new TemporalUnavailableError('Cannot connect to Temporal', { cause: error });
  }
};

const REFUSED = new Set<number | undefined>([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);

/**
 * Runs `call` against the cached Temporal connection of `target` (a workflow type's namespace, or the
 * environment's) with `deadline` (epoch ms) on every request it makes, and recovers, once each and within the deadline, from what a warm Lambda meets:
 * - a stale connection after a freeze: checked first, replaced when it does not answer (see `verified`);
 * - credentials refused (UNAUTHENTICATED, PERMISSION_DENIED): the secret is read again, bypassing the
 *   cache; a new API key is applied to the connection, new TLS material gets a new connection; the call
 *   is retried if anything changed;
 * - UNAVAILABLE once the SDK's own retries gave up: the call is retried on a new connection.
 * `call` may therefore run twice and must be idempotent: a start with a fixed request ID is. Failures
 * of the call itself are rethrown as they are, for the caller to map; a connection that cannot be had
 * is a TemporalUnavailableError, and no time left a DeadlineExceededError.
 */
export const callTemporal = async <T>(
  target: TemporalTarget,
  deadline: number,
  call: (temporal: Temporal) => Promise<T>,
): Promise<T> => {
  let live = await ready(target, deadline);
  let refreshed = false;
  let reconnected = false;
  for (;;) {
    const using = live;
    try {
      return await onConnection(using, () => using.connection.withDeadline(deadline, () => call(using)));
    } catch (error) {
      const code = grpcCodeOf(error);
      if (REFUSED.has(code) && !refreshed) {
        refreshed = true;
        const renewed = await refreshCredentials(using, deadline).catch(() => undefined);
        if (renewed !== undefined) {
          live = renewed;
          continue;
        }
      } else if (code === status.UNAVAILABLE && !reconnected && Date.now() < deadline) {
        reconnected = true;
        live = await replace(using, 'a call found Temporal unavailable', deadline).catch(() => {
          throw error;
        });
        continue;
      }
      if (code === status.DEADLINE_EXCEEDED || code === status.UNAVAILABLE) using.suspect = true;
      throw error;
    }
  }
};
