import { Client, Connection } from '@temporalio/client';

/**
 * The handler a user would write from Temporal's documentation: a client cached in module scope,
 * `client.workflow.start` per request. It is the yardstick of `npm run bench`, bundled with
 * `esbuild --bundle --minify --platform=node --format=esm` and nothing else, apart from the
 * createRequire banner without which an ESM bundle of grpc-js cannot load at all.
 */
let client: Promise<Client> | undefined;

const temporal = (): Promise<Client> => {
  client ??= Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' }).then(
    (connection) => new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' }),
  );
  return client;
};

interface ApiGatewayEvent {
  readonly body?: string;
}

export const handler = async (event: ApiGatewayEvent) => {
  const order = JSON.parse(event.body ?? '{}') as { orderId?: string };
  const handle = await (await temporal()).workflow.start('processOrder', {
    taskQueue: 'orders',
    workflowId: `order-${order.orderId}`,
    args: [order],
  });
  return {
    statusCode: 202,
    body: JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId }),
  };
};
