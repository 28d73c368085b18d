/**
 * Example workflows for the example routes. They run in Temporal's workflow sandbox, so they only
 * import @temporalio/workflow. Each returns what it received, so a caller can see its input arrive.
 */
import { ApplicationFailure, condition, defineSignal, setHandler } from '@temporalio/workflow';

export interface ProcessOrderResult {
  readonly processed: true;
  readonly input: unknown;
}

export async function processOrder(input?: unknown): Promise<ProcessOrderResult> {
  return { processed: true, input };
}

export async function nightlyReport(
  input?: unknown,
): Promise<{ readonly reported: true; readonly input: unknown }> {
  return { reported: true, input };
}

export const approveSignal = defineSignal('approve');

/** A long-running workflow: it waits for the `approve` signal, for up to a day. */
export async function approveRefund(
  input?: unknown,
): Promise<{ readonly approved: boolean; readonly input: unknown }> {
  let approved = false;
  setHandler(approveSignal, () => {
    approved = true;
  });
  await condition(() => approved, '1 day');
  return { approved, input };
}

/** A workflow that can fail: a card marked declined fails it, without retries. */
export async function chargeCard(input?: { readonly card?: string }): Promise<{ readonly charged: true }> {
  if (input?.card === 'declined') {
    throw ApplicationFailure.nonRetryable('Card declined', 'CardDeclined');
  }
  return { charged: true };
}
