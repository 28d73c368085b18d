import { InputSchemaError, ValidationError, WorkflowNotAllowedError } from '#lib/errors.ts';
import { checkInput } from '#lib/routes/inputSchema.ts';
import type { AllowedWorkflow, Routes } from '#lib/routes/model.ts';
import type { JsonValue, Route } from '#lib/routes/schema.ts';
import { render, renderString, type TemplateContext } from '#lib/routes/template.ts';
import { startOptionsOf } from './options.ts';
import type { WorkflowRequest } from './types.ts';

/** The route name of starts through the canonical envelope, in logs. */
const CANONICAL = 'canonical';

/** Looks a type up in the allow-list: the only way a request gets its task queue, policies and target. */
const allowed = (routes: Routes, workflowType: string): AllowedWorkflow => {
  const workflow = routes.workflows.get(workflowType);
  if (workflow === undefined) throw new WorkflowNotAllowedError(workflowType);
  return workflow;
};

const checkedId = (workflowId: string, route: string): string => {
  if (workflowId === '') throw new ValidationError(`Route "${route}": the workflow ID is empty`);
  return workflowId;
};

/** How long after it was sent a signal or update for a missing workflow is retried, by default. */
const MISSING_WORKFLOW_RETRY_SECONDS = 300;

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
 * stable across redeliveries, so a redelivered event still names the same workflow. `sentAt` (epoch
 * ms) is when the event was sent, where the source says: a signal or update whose workflow is missing
 * is retried until `missingWorkflowRetrySeconds` after it.
 */
export const fromRoute = (
  routes: Routes,
  route: Route,
  context: TemplateContext,
  identity: Identity,
  sentAt?: number,
): WorkflowRequest => {
  const { workflowType, name } = route;
  const workflow = allowed(routes, workflowType);
  const workflowId = checkedId(
    route.workflowId === undefined
      ? defaultWorkflowId(workflowType, identity, name)
      : renderString(route.workflowId, context, name),
    name,
  );
  const action = route.action ?? 'start';
  const args = (templates: readonly JsonValue[] | undefined) =>
    (templates ?? []).map((template) => render(template, context, name));
  const retrySeconds = route.missingWorkflowRetrySeconds ?? MISSING_WORKFLOW_RETRY_SECONDS;
  const input = route.input === undefined ? undefined : render(route.input, context, name);
  // Input that does not satisfy its schema never reaches Temporal.
  checkInput(routes.inputValidators.get(name), input, name, route.input);
  return {
    action,
    workflowType,
    workflowId,
    input,
    route: name,
    taskQueue: workflow.taskQueue,
    idReusePolicy: workflow.idReusePolicy,
    idConflictPolicy: workflow.idConflictPolicy,
    options: startOptionsOf(routes, workflow.options, route, context),
    target: workflow.target,
    ...(route.signal !== undefined && { signal: { name: route.signal.name, args: args(route.signal.args) } }),
    ...(route.update !== undefined && {
      update: {
        name: route.update.name,
        args: args(route.update.args),
        waitFor: route.update.waitFor ?? 'accepted',
      },
    }),
    ...((action === 'signal' || action === 'update') &&
      sentAt !== undefined && { missingWorkflowRetryUntil: sentAt + retrySeconds * 1000 }),
  };
};

/** Marks a start request with the event's redelivery-stable identity (see StartRequest.eventId). */
export const withEventId = (request: WorkflowRequest, eventId: string): WorkflowRequest => ({
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
): WorkflowRequest => {
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
  const workflow = allowed(routes, workflowType);
  if (input === undefined && workflow.inputValidator !== undefined) {
    throw new InputSchemaError(CANONICAL, [{ in: 'input', pointer: '', detail: 'is required' }]);
  }
  checkInput(workflow.inputValidator, input, CANONICAL, undefined);
  return {
    action: 'start',
    workflowType,
    workflowId: checkedId(
      workflowId ?? defaultWorkflowId(workflowType, identity as Identity, CANONICAL),
      CANONICAL,
    ),
    input,
    route: CANONICAL,
    taskQueue: workflow.taskQueue,
    idReusePolicy: workflow.idReusePolicy,
    idConflictPolicy: workflow.idConflictPolicy,
    options: startOptionsOf(routes, workflow.options, undefined, {}),
    target: workflow.target,
  };
};
