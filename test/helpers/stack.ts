import { Client, Connection, type WorkflowExecutionDescription } from '@temporalio/client';
import { type ExampleWorkers, startExampleWorkers } from '../../example/worker.ts';
import { type DevServer, startDevServer } from '../../scripts/temporalServer.ts';

export interface Stack {
  readonly address: string;
  /** A client of the test's own, for reading what the handlers started. */
  readonly client: Client;
  /** The workflow's description and result, once the example worker has completed it. */
  completed(workflowId: string): Promise<{ description: WorkflowExecutionDescription; result: unknown }>;
  /** Whether any run of the workflow ID exists. */
  exists(workflowId: string): Promise<boolean>;
  /**
   * Every run of a workflow ID, closed ones included. Visibility is eventually consistent, so this
   * waits (up to 10 s) for at least one run to be listed.
   */
  runs(workflowId: string): Promise<string[]>;
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
      exists: (workflowId) =>
        client.workflow
          .getHandle(workflowId)
          .describe()
          .then(
            () => true,
            () => false,
          ),
      async runs(workflowId) {
        for (let attempt = 0; ; attempt += 1) {
          const runs: string[] = [];
          for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
            runs.push(execution.runId);
          }
          if (runs.length > 0 || attempt >= 50) return runs;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};
