import {
  InterceptingCall,
  type Interceptor,
  ListenerBuilder,
  Metadata,
  type NextCall,
  RequesterBuilder,
  status,
} from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { wireCallInProgress } from '#lib/temporal/wire.ts';

/**
 * gRPC interceptors for the cached connection. Passing `interceptors` replaces the SDK's default list,
 * which is only its retry interceptor, so that one is rebuilt here with the SDK's own backoff.
 */

const deadlineMs = (deadline: Date | number | undefined): number =>
  deadline === undefined
    ? Number.POSITIVE_INFINITY
    : deadline instanceof Date
      ? deadline.getTime()
      : deadline;

/**
 * A call that could not be made, most often because its channel was closed ("Channel has been shut
 * down"): it ends with UNAVAILABLE through its listener, as a call that failed on the wire does,
 * instead of throwing from whatever tried to make it, which for a retry is a timer.
 */
const unmadeCall = (error: unknown): ReturnType<NextCall> => ({
  start(_metadata, listener) {
    const details = `The call could not be made: ${error instanceof Error ? error.message : String(error)}`;
    process.nextTick(() =>
      listener?.onReceiveStatus?.({ code: status.UNAVAILABLE, details, metadata: new Metadata() }),
    );
  },
  cancelWithStatus: () => {},
  getPeer: () => '',
  sendMessageWithContext: () => {},
  sendMessage: () => {},
  startRead: () => {},
  halfClose: () => {},
  getAuthContext: () => null,
});

/**
 * The SDK's retry interceptor (UNAVAILABLE, RESOURCE_EXHAUSTED and the like, with its backoff), except
 * that:
 * - a retry which could not start before the call's deadline is not waited for: the call fails with
 *   the status the server gave (RESOURCE_EXHAUSTED stays "throttled", a 503) rather than
 *   DEADLINE_EXCEEDED;
 * - an attempt that cannot be made (its channel was closed while the retry waited in its timer) fails
 *   the call through its own promise, and is not retried: the SDK's interceptor would let the
 *   channel's throw escape from the timer, and end the process. `onConnection` keeps a channel open
 *   until its calls end; this is the second line of defence.
 * Every attempt it makes is counted on the call `onWire` marks (WireCall.sends), so that an answer
 * to a request sent more than once is read as such.
 */
export const retryWithinDeadline = (): Interceptor => {
  const sdk = defaultGrpcRetryOptions();
  return (options, nextCall) => {
    const deadline = deadlineMs(options.deadline);
    const wire = wireCallInProgress();
    let delay = 0;
    let unmade = false;
    const retry = makeGrpcRetryInterceptor({
      // The interceptor asks whether to retry, then how long to wait: decide on the wait first.
      retryableDecider(attempt, received) {
        delay = sdk.delayFunction(attempt, received);
        return !unmade && sdk.retryableDecider(attempt, received) && Date.now() + delay < deadline;
      },
      delayFunction: () => delay,
    });
    return retry(options, (attemptOptions) => {
      if (wire !== undefined) wire.sends = (wire.sends ?? 0) + 1;
      try {
        return nextCall(attemptOptions);
      } catch (error) {
        unmade = true;
        return unmadeCall(error);
      }
    });
  };
};

// Statuses grpc-js produces on its own when the server never answered.
const LOCAL = new Set<number>([status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.CANCELLED]);

/** Calls `answered` whenever the server answers a call, whatever it says: the connection works. */
export const onServerAnswer =
  (answered: () => void): Interceptor =>
  (options, nextCall) =>
    new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withStart((metadata, _listener, next) => {
          next(
            metadata,
            new ListenerBuilder()
              .withOnReceiveStatus((received, nextStatus) => {
                if (!LOCAL.has(received.code)) answered();
                nextStatus(received);
              })
              .build(),
          );
        })
        .build(),
    );
