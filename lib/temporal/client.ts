import { Client, Connection } from '@temporalio/client';
import { config } from '#lib/config.ts';

/** The connection and client shared by every invocation of this execution environment. */
export interface Temporal {
  readonly connection: Connection;
  readonly client: Client;
  readonly namespace: string;
}

let pending: Promise<Temporal> | undefined;

const connect = async (timeoutMs: number): Promise<Temporal> => {
  const { connection: options, namespace } = config().temporal;
  const connection = await Connection.connect({ ...options, connectTimeout: timeoutMs });
  return { connection, client: new Client({ connection, namespace }), namespace };
};

/**
 * The cached Temporal client, connecting on first use. Connections are expensive and meant to be
 * reused, so one lives in module scope across warm invocations. A failed connect is forgotten, so the
 * next invocation connects again instead of failing on a cached rejection.
 */
export const temporal = (connectTimeoutMs: number): Promise<Temporal> => {
  if (pending === undefined) {
    const attempt = connect(Math.max(connectTimeoutMs, 1));
    pending = attempt;
    attempt.catch(() => {
      if (pending === attempt) pending = undefined;
    });
  }
  return pending;
};

/** Closes and forgets the cached connection (tests, and local tools that exit). */
export const closeTemporal = async (): Promise<void> => {
  const current = pending;
  pending = undefined;
  const resolved = await current?.catch(() => undefined);
  await resolved?.connection.close();
};
