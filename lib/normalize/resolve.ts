import { ValidationError, WorkflowNotAllowedError } from '#lib/errors.ts';
import type { Routes } from '#lib/routes/load.ts';
import type { Route } from '#lib/routes/schema.ts';
import { render, renderString, type TemplateContext } from '#lib/routes/template.ts';
import type { StartRequest } from './types.ts';

/** The route name of starts through the canonical envelope, in logs. */
const CANONICAL = 'canonical';

/** Looks a type up in the allow-list: the only way a StartRequest gets its task queue and policies. */
const allowed = (
  routes: Routes,
  workflowType: string,
  workflowId: string,
  input: unknown,
  route: string,
): StartRequest => {
  const workflow = routes.workflows.get(workflowType);
  if (workflow === undefined) throw new WorkflowNotAllowedError(workflowType);
  if (workflowId === '') throw new ValidationError(`Route "${route}": the workflow ID is empty`);
  return { workflowType, workflowId, input, route, ...workflow };
};

/**
 * What a trigger keeps stable across redeliveries of one event, for default workflow IDs: the
 * Idempotency-Key or request ID, the message ID, the event ID, a tick's rule or schedule and time.
 * `name` says what it is, for the error when an event lacks it: a default ID never reads "undefined".
 */
export interface Identity {
  readonly name: string;
  readonly value: string | undefined;
}

const defaultWorkflowId = (workflowType: string, identity: Identity, route: string): string => {
  if (identity.value === undefined || identity.value === '') {
    throw new ValidationError(
      `${route === CANONICAL ? 'The envelope names no workflowId' : `Route "${route}" has no workflowId template`}, and the event has no ${identity.name} to derive one from`,
    );
  }
  return `${workflowType}-${identity.value}`;
};

/**
 * A matched route: its templates are rendered against the event's context. A route without a
 * workflow ID template gets `<workflowType>-<identity>`, where the identity is what the trigger keeps
 * stable across redeliveries, so a redelivered event still names the same workflow.
 */
export const fromRoute = (
  routes: Routes,
  route: Route,
  context: TemplateContext,
  identity: Identity,
): StartRequest =>
  allowed(
    routes,
    route.workflowType,
    route.workflowId === undefined
      ? defaultWorkflowId(route.workflowType, identity, route.name)
      : renderString(route.workflowId, context, route.name),
    route.input === undefined ? undefined : render(route.input, context, route.name),
    route.name,
  );

/** Marks a start request with the event's redelivery-stable identity (see StartRequest.eventId). */
export const withEventId = (request: StartRequest, eventId: string): StartRequest => ({
  ...request,
  eventId,
});

/**
 * The canonical envelope: the caller names the type (and maybe the ID), never the task queue. Without
 * an identity (a Scheduler target input), the envelope must name the workflow ID itself.
 */
export const fromEnvelope = (
  routes: Routes,
  envelope: { workflowType: unknown; workflowId?: unknown; input?: unknown },
  identity: Identity | undefined,
): StartRequest => {
  const { workflowType, workflowId, input } = envelope;
  if (typeof workflowType !== 'string' || workflowType === '') {
    throw new ValidationError('workflowType is required and must be a non-empty string');
  }
  if (workflowId !== undefined && typeof workflowId !== 'string') {
    throw new ValidationError('workflowId must be a string');
  }
  if (workflowId === undefined && identity === undefined) {
    throw new ValidationError('workflowId is required when the event carries no id to derive it from');
  }
  const id = workflowId ?? defaultWorkflowId(workflowType, identity as Identity, CANONICAL);
  return allowed(routes, workflowType, id, input, CANONICAL);
};
