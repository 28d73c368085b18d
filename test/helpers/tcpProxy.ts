import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly address: string;
  /** TCP connections accepted and forwarded to the target. */
  readonly forwarded: number;
  /** Connections accepted and closed at once, while refusing. */
  readonly refused: number;
  /** Close new connections at once (a server that is down), or forward them. */
  refuse(refusing: boolean): void;
  /**
   * Hold back everything the server sends (a server that accepts calls and never answers), or
   * release what was held and forward again.
   */
  stall(stalling: boolean): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of the Temporal server that counts the connections clients open,
 * and can play a server that is down or one that never answers. It forwards bytes untouched (gRPC over HTTP/2 included).
 */
export const startTcpProxy = async (target: string): Promise<TcpProxy> => {
  const [host, port] = target.split(':');
  let refusing = false;
  let stalling = false;
  const held: { client: Socket; chunk: Buffer }[] = [];
  let forwarded = 0;
  let refused = 0;
  const sockets = new Set<Socket>();
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
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (stalling) held.push({ client, chunk });
      else client.write(chunk);
    });
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
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
    refuse(value) {
      refusing = value;
    },
    stall(value) {
      stalling = value;
      if (!stalling) for (const { client, chunk } of held.splice(0)) client.write(chunk);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
