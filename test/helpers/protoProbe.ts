import {
  Client,
  Connection,
  TerminatedFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
} from '@temporalio/client';
import { performAction } from '#lib/actions.ts';
import { closeTemporal } from '#lib/temporal/client.ts';

// Bundled with the probe, so that every RPC a function names is kept in the probe's descriptor too.
export { handler as eventBridgeHandler } from '../../functions/eventbridge.ts';
export { handler as httpHandler } from '../../functions/http.ts';
export { handler as sqsHandler } from '../../functions/sqs.ts';

/**
 * An entry point that tests bundle like a function (infra/build.ts, trimmed protobuf descriptor
 * included) and run from a folder without node_modules: it makes, against a real server, the calls
 * the handlers make and those a status or result feature would make, and reports what it saw. Every
 * call decodes real responses, errors and failures with the bundle's descriptor.
 */
export const probe = async (address: string, id: string, taskQueue: string) => {
  // GetSystemInfo, on connect.
  const connection = await Connection.connect({ address });
  try {
    const health = await connection.healthService.check({});
    const client = new Client({ connection });

    // The handlers' path: StartWorkflowExecution, then a duplicate through ALREADY_EXISTS and describe.
    const request = {
      action: 'start',
      workflowType: 'processOrder',
      workflowId: `probe-${id}`,
      taskQueue,
      input: { orderId: id, items: ['book'] },
      idReusePolicy: 'REJECT_DUPLICATE',
      idConflictPolicy: 'USE_EXISTING',
      options: {},
      target: {},
      route: 'probe',
    } as const;
    const first = await performAction(request, Date.now() + 10_000);
    const handle = client.workflow.getHandle(request.workflowId);
    // GetWorkflowExecutionHistory, long-polling for the close event, and its payloads.
    const result = await handle.result();
    const closedDuplicate = await performAction(request, Date.now() + 10_000);
    const description = await handle.describe();
    const history = await handle.fetchHistory();

    // WorkflowExecutionAlreadyStartedFailure, decoded from the gRPC status details.
    let alreadyStarted = false;
    const blocked = await client.workflow.start('processOrder', {
      taskQueue: `${taskQueue}-no-worker`,
      workflowId: `probe-blocked-${id}`,
    });
    try {
      await client.workflow.start('processOrder', {
        taskQueue: `${taskQueue}-no-worker`,
        workflowId: blocked.workflowId,
      });
    } catch (error) {
      alreadyStarted = error instanceof WorkflowExecutionAlreadyStartedError;
    }

    // A failure in the history: TerminateWorkflowExecution, then the result reports it.
    await blocked.terminate('probe');
    let terminated: string | undefined;
    try {
      await blocked.result();
    } catch (error) {
      if (error instanceof WorkflowFailedError && error.cause instanceof TerminatedFailure) {
        terminated = error.cause.message;
      }
    }

    // The other actions: SignalWithStartWorkflowExecution, SignalWorkflowExecution, ExecuteMultiOperation
    // (update-with-start), UpdateWorkflowExecution and PollWorkflowExecutionUpdate, a rejection included.
    const cart = { ...request, workflowType: 'cart', workflowId: `probe-cart-${id}`, input: undefined };
    const item = { sku: 'book', quantity: 1 };
    const late = Date.now() + 10_000;
    const signalled = await performAction(
      { ...cart, action: 'signalWithStart', signal: { name: 'addItem', args: [item] } },
      late,
    );
    await performAction({ ...cart, action: 'signal', signal: { name: 'addItem', args: [item] } }, late);
    const counted = await performAction(
      {
        ...cart,
        action: 'updateWithStart',
        update: { name: 'addItemAndCount', args: [item], waitFor: 'accepted' },
      },
      late,
      late,
    );
    let rejected: string | undefined;
    try {
      await performAction(
        { ...cart, action: 'update', update: { name: 'addItemAndCount', args: [{}], waitFor: 'accepted' } },
        late,
      );
    } catch (error) {
      rejected = (error as Error).name;
    }
    const checkedOut = await performAction(
      { ...cart, action: 'update', update: { name: 'checkout', args: [], waitFor: 'accepted' } },
      late,
      late,
    );

    return {
      actions: {
        signalWithStart: signalled.started,
        updateWithStart: counted.update?.result,
        rejected,
        checkout: checkedOut.update?.status,
      },
      health: health.status,
      first: { started: first.started, runId: first.runId },
      result,
      closedDuplicate: { started: closedDuplicate.started, runId: closedDuplicate.runId },
      described: { type: description.type, status: description.status.name, runId: description.runId },
      historyEvents: history.events?.length ?? 0,
      alreadyStarted,
      terminated,
    };
  } finally {
    await closeTemporal();
    await connection.close();
  }
};
