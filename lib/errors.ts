/**
 * Every failure the triggers know about. Each one says whether it is permanent (bad input: retrying
 * cannot help) or transient (retry later), and which HTTP status it maps to. The trigger adapters
 * turn that into a response, a batch item failure or a throw in one place each.
 *
 * `expose` follows middy's HttpError: messages of 4xx errors are safe to show a caller, 5xx are not.
 */
export abstract class TriggerError extends Error {
  /** Spelled out in each class, since minification renames constructors. */
  abstract override readonly name: string;
  abstract readonly statusCode: number;
  abstract readonly permanent: boolean;
  /** Short, stable problem title for RFC 9457 responses. */
  abstract readonly title: string;

  get expose(): boolean {
    return this.statusCode < 500;
  }

  /** RFC 9457 extension members of the problem response, beyond type, title, status and detail. */
  get extensions(): Readonly<Record<string, unknown>> | undefined {
    return undefined;
  }
}

abstract class PermanentError extends TriggerError {
  readonly permanent = true;
}

abstract class TransientError extends TriggerError {
  readonly permanent = false;
}

/** The body is not valid JSON. */
export class MalformedJsonError extends PermanentError {
  override readonly name = 'MalformedJsonError';
  readonly statusCode = 400;
  readonly title = 'Malformed JSON';
}

/** No route matches the event, and the canonical envelope does not apply. */
export class NoRouteError extends PermanentError {
  override readonly name = 'NoRouteError';
  readonly statusCode = 404;
  readonly title = 'No route';
}

/** The path exists, but not for this method. */
export class MethodNotAllowedError extends PermanentError {
  override readonly name = 'MethodNotAllowedError';
  readonly statusCode = 405;
  readonly title = 'Method not allowed';
  readonly allow: readonly string[];
  constructor(message: string, allow: readonly string[]) {
    super(message);
    this.allow = allow;
  }
}

/** The request lacks a valid webhook signature. Nothing is started. */
export class SignatureError extends PermanentError {
  override readonly name = 'SignatureError';
  readonly statusCode = 401;
  readonly title = 'Invalid signature';
}

/** No workflow with this ID exists (status requests). */
export class WorkflowNotFoundError extends PermanentError {
  override readonly name = 'WorkflowNotFoundError';
  readonly statusCode = 404;
  readonly title = 'Workflow not found';
}

/** The request body is larger than HTTP_MAX_BODY_BYTES. */
export class PayloadTooLargeError extends PermanentError {
  override readonly name = 'PayloadTooLargeError';
  readonly statusCode = 413;
  readonly title = 'Payload too large';
}

/** The request body is not declared as JSON. */
export class UnsupportedMediaTypeError extends PermanentError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly statusCode = 415;
  readonly title = 'Unsupported media type';
}

/** A workflow with this ID is running, and its type's conflict policy is FAIL. */
export class WorkflowConflictError extends PermanentError {
  override readonly name = 'WorkflowConflictError';
  readonly statusCode = 409;
  readonly title = 'Workflow already running';
}

/**
 * signalWithStart or updateWithStart found the workflow closed, and its type's ID reuse policy allows
 * no new run: the signal or update was not delivered.
 */
export class WorkflowClosedError extends PermanentError {
  override readonly name = 'WorkflowClosedError';
  readonly statusCode = 409;
  readonly title = 'Workflow closed';
}

/** The workflow's update validator rejected the update (or its handler failed before accepting it). */
export class UpdateRejectedError extends PermanentError {
  override readonly name = 'UpdateRejectedError';
  readonly statusCode = 422;
  readonly title = 'Update rejected';
}

/** The workflow type is not in the routes file's `workflows` allow-list. */
export class WorkflowNotAllowedError extends PermanentError {
  override readonly name = 'WorkflowNotAllowedError';
  readonly statusCode = 403;
  readonly title = 'Workflow type not allowed';
  readonly workflowType: string;
  constructor(workflowType: string, message = `Workflow type "${workflowType}" is not in the allow-list`) {
    super(message);
    this.workflowType = workflowType;
  }
}

/**
 * A template path is missing from the event, or holds null where the template needs text (a workflow ID,
 * or a placeholder inside a longer string). Names the route and the path, never the value.
 */
export class TemplateError extends PermanentError {
  override readonly name = 'TemplateError';
  readonly statusCode = 422;
  readonly title = 'Template path missing';
  readonly route: string;
  readonly path: string;
  constructor(route: string, path: string, problem = 'is missing from the event') {
    super(`Route "${route}": the path "${path}" ${problem}`);
    this.route = route;
    this.path = path;
  }
}

/** Where a violation is: in the workflow's input, or in the part of the event a template copies into it. */
export interface InputViolation {
  /** `input`, or the template root it was copied from (`body`, `detail`). */
  readonly in: string;
  /** JSON Pointer (RFC 6901) into it. */
  readonly pointer: string;
  /** What the schema requires there; never the value. */
  readonly detail: string;
}

/**
 * The workflow's input does not satisfy its JSON Schema (`inputSchema`). Lists every violation, each a
 * pointer and what the schema requires there, never the value: the message is logged.
 */
export class InputSchemaError extends PermanentError {
  override readonly name = 'InputSchemaError';
  readonly statusCode = 422;
  readonly title = 'Invalid input';
  readonly violations: readonly InputViolation[];
  constructor(route: string, violations: readonly InputViolation[]) {
    const listed = violations.map((v) => `${v.in} ${v.pointer || '/'}: ${v.detail}`).join('; ');
    super(`Route "${route}": the input does not satisfy its schema: ${listed}`);
    this.violations = violations;
  }

  override get extensions() {
    return { errors: this.violations };
  }
}

/**
 * An Idempotency-Key sent again with a different request (method, path or body) than the one that
 * started the workflow it names: refused rather than answered as that request's duplicate.
 */
export class IdempotencyKeyReusedError extends PermanentError {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly statusCode = 422;
  readonly title = 'Idempotency-Key reused';
  readonly idempotencyKey: string;
  constructor(key: string, workflowId: string) {
    super(
      `The Idempotency-Key "${key}" was already used for a different request, which started workflow ${workflowId}`,
    );
    this.idempotencyKey = key;
  }

  override get extensions() {
    return { idempotencyKey: this.idempotencyKey };
  }
}

/** A search attribute's value cannot be its declared type. Names the route, attribute and type, never the value. */
export class SearchAttributeError extends PermanentError {
  override readonly name = 'SearchAttributeError';
  readonly statusCode = 422;
  readonly title = 'Invalid search attribute';
}

/** The event is well-formed but lacks what the trigger needs (for example a canonical envelope field). */
export class ValidationError extends PermanentError {
  override readonly name = 'ValidationError';
  readonly statusCode = 422;
  readonly title = 'Invalid event';
}

/** The routes file is invalid. Raised at cold start, so a bad deploy fails loudly and at once. */
export class RoutesFileError extends PermanentError {
  override readonly name = 'RoutesFileError';
  readonly statusCode = 500;
  readonly title = 'Invalid routes file';
}

/**
 * A webhook secret could not be read, or is not where the route says. Not the caller's fault (500), and
 * perhaps fixed by a retry. The message names the secret's source and field only: errors from a read
 * can quote the value (a JSON parse error quotes what it choked on), so none is kept as a cause.
 */
export class WebhookSecretError extends TransientError {
  override readonly name = 'WebhookSecretError';
  readonly statusCode = 500;
  readonly title = 'Webhook secret unavailable';
}

/**
 * A signal or update from SQS or EventBridge found no workflow, while the event is still young enough
 * that the workflow may be starting (its start can race the event): retried, not failed.
 */
export class WorkflowNotStartedError extends TransientError {
  override readonly name = 'WorkflowNotStartedError';
  readonly statusCode = 503;
  readonly title = 'Workflow not started yet';
}

/**
 * A stream record not started because an earlier record of its shard failed in the same batch: reported
 * with it, so that Lambda retries the shard from the first failure, in order.
 */
export class ShardBlockedError extends TransientError {
  override readonly name = 'ShardBlockedError';
  readonly statusCode = 503;
  readonly title = 'Earlier record of the shard failed';
}

/** Temporal could not be reached, or refused the call for now. Retry later. */
export class TemporalUnavailableError extends TransientError {
  override readonly name = 'TemporalUnavailableError';
  readonly statusCode = 503;
  readonly title = 'Temporal unavailable';
  /** Seconds a caller should wait before retrying. */
  readonly retryAfter = 1;
}

/** The invocation's deadline passed before Temporal answered. */
export class DeadlineExceededError extends TransientError {
  override readonly name = 'DeadlineExceededError';
  readonly statusCode = 504;
  readonly title = 'Deadline exceeded';
}

/** Temporal rejected the start request itself (for example an invalid workflow ID). */
export class StartRejectedError extends PermanentError {
  override readonly name = 'StartRejectedError';
  readonly statusCode = 422;
  readonly title = 'Start rejected';
}

/** Any other failure while starting. Assumed transient, since nothing says otherwise. */
export class StartFailedError extends TransientError {
  override readonly name = 'StartFailedError';
  readonly statusCode = 500;
  readonly title = 'Start failed';
}

export const isTriggerError = (error: unknown): error is TriggerError => error instanceof TriggerError;

/** Anything unknown is treated as transient: retrying a permanent failure costs a retry, dropping a transient one loses an event. */
export const isPermanent = (error: unknown): boolean => isTriggerError(error) && error.permanent;
