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
 * A matched route: its templates are rendered against the event's context. A route without a
 * workflow ID template gets `<workflowType>-<identity>`, where the identity is what the trigger keeps
 * stable across redeliveries, so a redelivered event still names the same workflow.
 */
export const fromRoute = (
  routes: Routes,
  route: Route,
  context: TemplateContext,
  identity: string,
): StartRequest =>
  allowed(
    routes,
    route.workflowType,
    route.workflowId === undefined
      ? `${route.workflowType}-${identity}`
      : renderString(route.workflowId, context, route.name),
    route.input === undefined ? undefined : render(route.input, context, route.name),
    route.name,
  );

/** Marks a start request with the event's redelivery-stable identity (see StartRequest.eventId). */
export const withEventId = (request: StartRequest, eventId: string): StartRequest => ({
  ...request,
  eventId,
});

/** The canonical envelope: the caller names the type (and maybe the ID), never the task queue. */
export const fromEnvelope = (
  routes: Routes,
  envelope: { workflowType: unknown; workflowId?: unknown; input?: unknown },
  defaultId: ((workflowType: string) => string) | undefined,
): StartRequest => {
  const { workflowType, workflowId, input } = envelope;
  if (typeof workflowType !== 'string' || workflowType === '') {
    throw new ValidationError('workflowType is required and must be a non-empty string');
  }
  if (workflowId !== undefined && typeof workflowId !== 'string') {
    throw new ValidationError('workflowId must be a string');
  }
  const id = workflowId ?? defaultId?.(workflowType);
  if (id === undefined) {
    throw new ValidationError('workflowId is required when the event carries no id to derive it from');
  }
  return allowed(routes, workflowType, id, input, CANONICAL);
};
