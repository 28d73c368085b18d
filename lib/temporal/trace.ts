import { AsyncLocalStorage } from 'node:async_hooks';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { TraceContext } from '#lib/trace/context.ts';

/**
 * Passes an event's trace to the workflow: the W3C trace context goes into each call's headers as
 * `@temporalio/interceptors-opentelemetry` writes and reads them (the `_tracer-data` header, a JSON
 * payload of the propagation carrier), so a worker running those interceptors continues the event's
 * trace. The SDK takes no per-call headers, so the trace of the call in progress is found through
 * AsyncLocalStorage, as the SDK finds a call's deadline.
 */

/** `@temporalio/interceptors-opentelemetry`'s TRACE_HEADER. */
export const TRACE_HEADER = '_tracer-data';

const storage = new AsyncLocalStorage<TraceContext>();

/** Runs `fn`, whose Temporal calls carry `trace` (none when it is undefined). */
export const withTrace = <T>(trace: TraceContext | undefined, fn: () => Promise<T>): Promise<T> =>
  trace === undefined ? fn() : storage.run(trace, fn);

/** Whether a `_tracer-data` header already carries a trace (one of the user's interceptors wrote it). */
const carriesTrace = (headers: Headers): boolean => {
  const existing = headers[TRACE_HEADER];
  if (existing === undefined) return false;
  try {
    const carrier = defaultPayloadConverter.fromPayload<Record<string, unknown>>(existing);
    return typeof carrier?.traceparent === 'string';
  } catch {
    return false;
  }
};

const traced = (headers: Headers): Headers => {
  const trace = storage.getStore();
  if (trace === undefined || carriesTrace(headers)) return headers;
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload({ ...trace }) };
};

/**
 * The WorkflowClient interceptor that writes the header. It comes after the user's interceptors, and
 * a trace one of them already wrote (an OpenTelemetry client interceptor in a traced function) wins.
 */
export const traceInterceptor = (): WorkflowClientInterceptor => ({
  startWithDetails: (input, next) => next({ ...input, headers: traced(input.headers) }),
  signalWithStart: (input, next) => next({ ...input, headers: traced(input.headers) }),
  signal: (input, next) => next({ ...input, headers: traced(input.headers) }),
  startUpdate: (input, next) => next({ ...input, headers: traced(input.headers) }),
  startUpdateWithStart: (input, next) =>
    next({
      ...input,
      workflowStartHeaders: traced(input.workflowStartHeaders),
      updateHeaders: traced(input.updateHeaders),
    }),
});
