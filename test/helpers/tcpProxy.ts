import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly address: string;
  /** TCP connections accepted and forwarded to the target. */
  readonly forwarded: number;
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
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of the Temporal server that counts the connections clients open,
 * and can play a server that is down. It forwards bytes untouched (gRPC over HTTP/2 included).
 */
export const startTcpProxy = async (target: string): Promise<TcpProxy> => {
  const [host, port] = target.split(':');
  let refusing = false;
  let forwarded = 0;
  let refused = 0;
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
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
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
    get open() {
      return pairs.size;
    },
    refuse(value) {
      refusing = value;
    },
    blackhole() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.on('data', () => {});
        upstream.on('data', () => {});
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
