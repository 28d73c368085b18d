import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';

export interface ExampleWorkers {
  /** Stops polling and waits for the workers to finish, then closes the connection. */
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * Real `@temporalio/worker` workers for the example workflows, one per task queue. The workflow
 * code is bundled once and shared by all of them.
 */
export const startExampleWorkers = async (options: {
  address: string;
  namespace?: string;
  taskQueues: readonly string[];
}): Promise<ExampleWorkers> => {
  if (!runtimeInstalled) {
    // The native core logs every retried poll at WARN; a server restart is expected in tests.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
    runtimeInstalled = true;
  }
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    logger: new DefaultLogger('ERROR'),
  });
  const connection = await NativeConnection.connect({ address: options.address });
  const namespace = options.namespace ?? 'default';
  const workers = await Promise.all(
    options.taskQueues.map((taskQueue) =>
      Worker.create({ connection, namespace, taskQueue, workflowBundle }),
    ),
  );
  const running = workers.map((worker) => worker.run());
  return {
    async stop() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.allSettled(running);
      await connection.close();
    },
  };
};
