import { connectivityState } from '@grpc/grpc-js';
import { Connection, type ConnectionOptions } from '@temporalio/client';

/**
 * A Connection that fails fast and costs no call. The SDK's `Connection.connect` waits for the
 * channel to become ready until its connect timeout, through every refused attempt, then calls
 * `GetSystemInfo`. Here a channel that goes to TRANSIENT_FAILURE (connection refused, TLS handshake
 * rejected, name not found) fails the connect at once, as gRPC's own fail-fast calls do, so an
 * invocation that cannot reach Temporal answers now instead of at its deadline; and a channel that is
 * READY (TCP, TLS and the server's HTTP/2 settings received) is connected: the invocation's own call
 * is the first round trip after the handshake. What `GetSystemInfo` would have found out comes with
 * that call's answer: credentials refused (UNAUTHENTICATED, which `callTemporal` handles) or a server
 * that is not Temporal. The client never reads the capabilities it returns.
 */
export class TemporalConnection extends Connection {
  /** Connects (the channel READY, no call made), and answers by `deadline` (epoch ms). */
  static async open(options: ConnectionOptions, deadline: number): Promise<TemporalConnection> {
    const connectTimeout = Math.max(deadline - Date.now(), 1);
    // `lazy` builds an instance of the class it is called on.
    const connection = TemporalConnection.lazy({ ...options, connectTimeout }) as TemporalConnection;
    try {
      await connection.untilReady(deadline);
      return connection;
    } catch (error) {
      // grpc-js 1.14 quirk: a subchannel that is backing off after the refused attempt makes one more
      // attempt when the backoff ends, even after close(), and if that one succeeds its connection
      // stays open until the server closes it as idle. Closing is still right: `Connection.connect`
      // does not close a connection it failed to make at all.
      await connection.close();
      throw error;
    }
  }

  /** The channel is down or closed: calls on it would fail or wait for a reconnect. */
  get failed(): boolean {
    const state = this.client.getChannel().getConnectivityState(false);
    return state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN;
  }

  protected override untilReady(deadline: number): Promise<void> {
    const channel = this.client.getChannel();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const state = channel.getConnectivityState(true);
        if (state === connectivityState.READY) {
          resolve();
        } else if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) {
          reject(new Error(`Cannot connect to ${this.options.address}`));
        } else {
          channel.watchConnectivityState(state, deadline, (error) =>
            error
              ? reject(new Error(`No connection to ${this.options.address} before the deadline`))
              : check(),
          );
        }
      };
      check();
    });
  }
}
