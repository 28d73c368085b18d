import type { WorkflowResult } from '#lib/actions.ts';
import { StartFailedError } from '#lib/errors.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';

/**
 * A start in place of Temporal's for the batch tests: it records the `orderId` of each input in the
 * order asked, and how many starts were in flight at once, and fails the ones `fail` names.
 */
export const recordingStart = (options: { fail?: (orderId: string) => boolean; delayMs?: number } = {}) => {
  const order: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const start = async (request: WorkflowRequest): Promise<WorkflowResult> => {
    const { orderId } = request.input as { orderId: string };
    order.push(orderId);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 5));
    inFlight -= 1;
    if (options.fail?.(orderId)) throw new StartFailedError(`start of ${orderId} failed`);
    const { workflowId, workflowType, taskQueue } = request;
    return {
      action: 'start',
      workflowId,
      workflowType,
      taskQueue,
      runId: 'r',
      namespace: 'default',
      started: true,
    };
  };
  return { start, order, maxInFlight: () => maxInFlight };
};
