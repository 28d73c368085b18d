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

/**
 * Runs one attempt of `call` on `live`. A connection whose last call failed without an answer
 * (DEADLINE_EXCEEDED, UNAVAILABLE) is suspect: the real call goes out on it at once, and is cancelled
 * if the server answers nothing on the connection, to it or to any other call, within the keepalive
 * timeout, which is the check a keepalive ping would make. `cut` then tells the caller to send the
 * call again on a new connection. No probe goes first: on a live connection the call costs one round
 * trip, as on any other.
 *
 * A connection that was only idle needs none of this: grpc-js sends an HTTP/2 ping with the first
 * call after an idle gap longer than the keepalive time (the ping its keepalive timer wanted to send
 * while no call was open, or the one that timer sends when a thawed process runs it late), and when
 * no ack comes within the keepalive timeout it drops the transport. The call then fails UNAVAILABLE,
 * the retry interceptor sends it again, with the same bytes and so the same request or update ID, on
 * the channel's next transport: a new TCP connection.
 */
const attempt = async <T>(
  live: Live,
  deadline: number,
  call: (temporal: Temporal) => Promise<T>,
): Promise<{ value: T } | { cut: true }> => {
  const run = () => live.connection.withDeadline(deadline, () => call(live));
  if (!live.suspect) return { value: await onConnection(live, run) };
  const { keepaliveTimeoutMs } = config().temporal;
  const began = Date.now();
  const silence = new AbortController();
  const timer = setTimeout(() => {
    if (live.lastAnswer < began) silence.abort();
  }, keepaliveTimeoutMs);
  try {
    return { value: await onConnection(live, () => live.connection.withAbortSignal(silence.signal, run)) };
  } catch (error) {
    if (silence.signal.aborted) return { cut: true };
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

/** The connection to use now, or a TriggerError that says why there is none. */
const ready = async (target: TemporalTarget, deadline: number): Promise<Live> => {
  if (deadline <= Date.now()) {
    throw new DeadlineExceededError('No time left in the invocation to call Temporal');
  }
  try {
    const live = await acquire(target, deadline);
    return live.connection.failed ? await replace(live, 'the channel is down', deadline) : live;
  } catch (error) {
    if (isTriggerError(error)) throw error;
    throw new TemporalUnavailableError('Cannot connect to Temporal', { cause: error });
  }
};

const REFUSED = new Set<number | undefined>([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);

/**
 * Runs `call` against the cached Temporal connection of `target` (a workflow type's namespace, or the
 * environment's) with `deadline` (epoch ms) on every request it makes, and recovers, once each and
 * within the deadline, from what a warm Lambda meets:
 * - a dead connection after an idle gap or a freeze: gRPC's keepalive ping goes with the call, and the
 *   call is sent again on a new transport when the ping goes unanswered (see `attempt`);
 * - a connection whose last call got no answer: the call is cut when the connection stays silent for
 *   the keepalive timeout, and sent again on a new connection (see `attempt`);
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
    let done: Awaited<ReturnType<typeof attempt<T>>>;
    try {
      done = await attempt(using, deadline, call);
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
    if ('value' in done) return done.value;
    // Cut on a silent connection (see `attempt`): once, on a new one, which is not suspect.
    reconnected = true;
    const reason = `no answer within ${config().temporal.keepaliveTimeoutMs} ms after a call failed`;
    live = await replace(using, reason, deadline).catch((error: unknown) => {
      throw new TemporalUnavailableError('Cannot connect to Temporal', { cause: error });
    });
  }
};
