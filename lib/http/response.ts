import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { WorkflowResult } from '#lib/actions.ts';
import { isTriggerError, MethodNotAllowedError, TemporalUnavailableError } from '#lib/errors.ts';
import type { Outcome, WorkflowStatus } from '#lib/status.ts';

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { headers: Record<string, string> };

/**
 * The answer to an action. 202 when it left work under way: a new run, a signal delivered, an update
 * accepted and still running. 200 when the answer is final: the workflow already existed (a
 * duplicate), an update completed or failed, or, after `Prefer: wait`, the workflow closed in time,
 * whether it succeeded or not (the request did what it asked; the body says how the workflow ended).
 * `Location` points at the workflow.
 */
export const actionResponse = (
  result: WorkflowResult,
  waited?: { readonly preference: string | undefined; readonly outcome?: Outcome | undefined },
): HttpResponse => {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    location: `/workflows/${encodeURIComponent(result.workflowId)}`,
  };
  if (waited?.preference !== undefined) headers['preference-applied'] = waited.preference;
  const outcome = waited?.outcome;
  const underWay =
    result.update !== undefined
      ? result.update.status === 'ACCEPTED'
      : result.signal !== undefined || result.started;
  return {
    statusCode: outcome === undefined && underWay ? 202 : 200,
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

/** The RFC 9457 problem type of a TriggerError, from its name: `urn:temporal-triggers:problem:<kebab-case>`. */
export const problemType = (name: string): string => `urn:temporal-triggers:problem:${kebab(name)}`;

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
    type: known ? problemType(error.name) : 'about:blank',
    title: known ? error.title : 'Internal Server Error',
    status,
    ...(known && error.expose && { detail: error.message }),
    ...(instance && { instance }),
    ...(known && error.expose && error.extensions),
  };
  return { statusCode: status, headers, body: JSON.stringify(problem) };
};
