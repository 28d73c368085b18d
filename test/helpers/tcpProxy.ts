import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly address: string;
  /** TCP connections accepted and forwarded to the target. */
  readonly forwarded: number;
  /**
   * gRPC calls the clients made: the HTTP/2 HEADERS frames that open a stream, read from what clients
   * send (plaintext HTTP/2 only).
   */
  readonly rpcs: number;
  /** Connections accepted and closed at once, while refusing. */
  readonly refused: number;
  /** Forwarded connections still open. */
  readonly open: number;
  /** Close new connections at once (a server that is down), or forward them. */
  refuse(refusing: boolean): void;
  /**
   * Turn every open connection into a black hole: its bytes are accepted and dropped, and nothing
   * comes back, as when a NAT gateway forgets a flow. New connections are forwarded as usual.
   */
  blackhole(): void;
  /**
   * Drop what every open connection's server sends, and keep forwarding what its client sends: the
   * server gets each request and its answers are lost, as when a flow dies on the way back.
   */
  dropAnswers(): void;
  close(): Promise<void>;
}

/** The HTTP/2 client connection preface (RFC 9113 §3.4), before the client's first frame. */
const PREFACE_BYTES = 24;
const FRAME_HEADER_BYTES = 9;
const HEADERS_FRAME = 0x1;

/**
 * Counts the streams a client opens in its HTTP/2 bytes: each HEADERS frame on a stream not seen
 * before is one call. Frames may straddle chunks, so what is left of one is carried over.
 */
const streamCounter = (onStream: () => void): ((chunk: Buffer) => void) => {
  let pending = Buffer.alloc(0);
  let prefaceLeft = PREFACE_BYTES;
  const seen = new Set<number>();
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    if (prefaceLeft > 0) {
      const skipped = Math.min(prefaceLeft, pending.length);
      pending = pending.subarray(skipped);
      prefaceLeft -= skipped;
    }
    while (pending.length >= FRAME_HEADER_BYTES) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < FRAME_HEADER_BYTES + length) break;
      const stream = pending.readUInt32BE(5) & 0x7fffffff;
      if (pending[3] === HEADERS_FRAME && stream !== 0 && !seen.has(stream)) {
        seen.add(stream);
        onStream();
      }
      pending = pending.subarray(FRAME_HEADER_BYTES + length);
    }
  };
};

/** Forwards `from`'s bytes to `to`, each `delayMs` later (in order: equal timers fire in turn). */
const forward = (from: Socket, to: Socket, delayMs: number): void => {
  if (delayMs === 0) {
    from.pipe(to);
    return;
  }
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
};

/** From now on, `from`'s bytes are accepted and dropped. */
const drop = (from: Socket, to: Socket): void => {
  from.unpipe(to);
  from.removeAllListeners('data');
  from.on('data', () => {});
};

/**
 * A loopback TCP proxy in front of the Temporal server that counts the connections clients open and
 * the gRPC calls they make, and can play a server that is down. It forwards bytes untouched (gRPC over
 * HTTP/2 included), each `delayMs` late in each direction when asked: a network's latency.
 */
export const startTcpProxy = async (
  target: string,
  { delayMs = 0 }: { readonly delayMs?: number } = {},
): Promise<TcpProxy> => {
  const [host, port] = target.split(':');
  let refusing = false;
  let forwarded = 0;
  let refused = 0;
  let rpcs = 0;
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (refusing) {
      refused += 1;
      client.destroy();
      return;
    }
    forwarded += 1;
    const upstream = createConnection({ host, port: Number(port) });
    // No Nagle: a small write held for the peer's delayed ACK would add latency the network lacks.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.on(
      'data',
      streamCounter(() => {
        rpcs += 1;
      }),
    );
    forward(client, upstream, delayMs);
    forward(upstream, client, delayMs);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('proxy did not bind');
  return {
    address: `127.0.0.1:${bound.port}`,
    get forwarded() {
      return forwarded;
    },
    get refused() {
      return refused;
    },
    get rpcs() {
      return rpcs;
    },
    get open() {
      return pairs.size;
    },
    refuse(value) {
      refusing = value;
    },
    blackhole() {
      for (const [client, upstream] of pairs) {
        drop(client, upstream);
        drop(upstream, client);
      }
    },
    dropAnswers() {
      for (const [client, upstream] of pairs) drop(upstream, client);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
