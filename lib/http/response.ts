import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isTriggerError, MethodNotAllowedError, TemporalUnavailableError } from '#lib/errors.ts';
import type { StartResult } from '#lib/start.ts';
import type { Outcome, WorkflowStatus } from '#lib/status.ts';

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { headers: Record<string, string> };

/**
 * 202 for a new run, 200 when the workflow already existed; `Location` points at the workflow.
 * After `Prefer: wait`, a workflow that closed in time answers 200 with how it ended, whether it
 * succeeded or not: the start worked, and the caller reads the outcome from the body.
 */
export const startedResponse = (
  result: StartResult,
  waited?: { readonly preference: string; readonly outcome: Outcome | undefined },
): HttpResponse => {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    location: `/workflows/${encodeURIComponent(result.workflowId)}`,
  };
  if (waited !== undefined) headers['preference-applied'] = waited.preference;
  const outcome = waited?.outcome;
  return {
    statusCode: outcome !== undefined || !result.started ? 200 : 202,
    headers,
    body: JSON.stringify(outcome === undefined ? result : { ...result, ...outcome }),
  };
};

/** `GET /workflows/{workflowId}`. Never cached: the status changes. */
export const statusResponse = (status: WorkflowStatus): HttpResponse => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(status),
});

const kebab = (name: string): string =>
  name
    .replace(/Error$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();

/**
 * An RFC 9457 problem response. The detail of an error is shown only when it is exposed (4xx);
 * anything else answers with its status and title alone, so internals never reach a caller.
 */
export const problemResponse = (error: unknown, instance?: string): HttpResponse => {
  const known = isTriggerError(error);
  const status = known ? error.statusCode : 500;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (error instanceof TemporalUnavailableError) headers['retry-after'] = String(error.retryAfter);
  if (error instanceof MethodNotAllowedError) headers.allow = error.allow.join(', ');
  const problem = {
    type: known ? `urn:temporal-triggers:problem:${kebab(error.name)}` : 'about:blank',
    title: known ? error.title : 'Internal Server Error',
    status,
    ...(known && error.expose && { detail: error.message }),
    ...(instance && { instance }),
  };
  return { statusCode: status, headers, body: JSON.stringify(problem) };
};
