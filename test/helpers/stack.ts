import { Client, Connection, type WorkflowExecutionDescription } from '@temporalio/client';
import { type ExampleWorkers, startExampleWorkers } from '../../example/worker.ts';
import { type DevServer, startDevServer } from '../../scripts/temporalServer.ts';

export interface Stack {
  readonly address: string;
  /** A client of the test's own, for reading what the handlers started. */
  readonly client: Client;
  /** The workflow's description and result, once the example worker has completed it. */
  completed(workflowId: string): Promise<{ description: WorkflowExecutionDescription; result: unknown }>;
  stop(): Promise<void>;
}

/**
 * A real Temporal server (TEMPORAL_ADDRESS when `npm test` started one, else a dev server of the
 * suite's own) and real example workers on the example routes' task queues. Sets TEMPORAL_ADDRESS
 * for the handlers, which must be imported after this resolves.
 */
export const startStack = async (taskQueues: readonly string[] = ['orders', 'reports']): Promise<Stack> => {
  let server: DevServer | undefined;
  let workers: ExampleWorkers | undefined;
  let connection: Connection | undefined;
  const stop = async () => {
    await workers?.stop();
    await connection?.close();
    await server?.stop();
  };
  try {
    server = await startDevServer();
    process.env.TEMPORAL_ADDRESS = server.address;
    process.env.TEMPORAL_NAMESPACE = server.namespace;
    workers = await startExampleWorkers({ address: server.address, namespace: server.namespace, taskQueues });
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: server.namespace });
    return {
      address: server.address,
      client,
      async completed(workflowId) {
        const handle = client.workflow.getHandle(workflowId);
        const result = await handle.result();
        return { description: await handle.describe(), result };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};
