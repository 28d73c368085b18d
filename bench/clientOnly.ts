import { Client, Connection } from '@temporalio/client';

/**
 * The Temporal client alone, built like the functions (infra/build.ts): the bench's cold init shows
 * how much of a function's init is the client's and how much the handler's own code.
 */
export const handler = () => new Client({ connection: Connection.lazy() });
