/**
 * Example workflows for the example routes. They run in Temporal's workflow sandbox, so they only
 * import @temporalio/workflow. Each returns what it received, so a caller can see its input arrive.
 */

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
