import { getXrayTraceDataFromEnv } from '@aws-lambda-powertools/commons/utils/env';

/**
 * The trace an event belongs to, as W3C Trace Context (https://www.w3.org/TR/trace-context/): what
 * Temporal's OpenTelemetry interceptors carry in a workflow's `_tracer-data` header and a worker's
 * spans continue. Built from a `traceparent` header, from SQS's AWSTraceHeader, or from the function's
 * own X-Ray trace header; an X-Ray trace ID is a W3C trace ID with its dashes removed, as
 * OpenTelemetry's AWS X-Ray propagator maps it.
 */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

const TRACEPARENT =
  /^(?<version>[0-9a-f]{2})-(?<traceId>[0-9a-f]{32})-(?<parentId>[0-9a-f]{16})-[0-9a-f]{2}$/;
const ZEROS = /^0+$/;

/**
 * A W3C `traceparent` (and `tracestate`) header, when it is valid: version 00 in its exact form, a
 * later version by its first four fields, as the specification asks; never an all-zero ID.
 */
export const fromTraceparent = (
  traceparent: string | undefined,
  tracestate?: string,
): TraceContext | undefined => {
  const value = traceparent?.trim().toLowerCase();
  if (value === undefined) return undefined;
  const head = value.slice(0, 55);
  const fields = TRACEPARENT.exec(head)?.groups;
  if (fields === undefined || fields.version === 'ff') return undefined;
  if (fields.version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-')
    return undefined;
  if (ZEROS.test(fields.traceId ?? '') || ZEROS.test(fields.parentId ?? '')) return undefined;
  const state = tracestate?.trim();
  return { traceparent: head, ...(state && { tracestate: state }) };
};

const XRAY_ROOT = /^1-(?<time>[0-9a-f]{8})-(?<id>[0-9a-f]{24})$/;
const XRAY_PARENT = /^[0-9a-f]{16}$/;

/** The fields of an X-Ray trace header: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`. */
const xrayFields = (header: string): Record<string, string> => {
  const fields: Record<string, string> = {};
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) fields[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return fields;
};

/**
 * An X-Ray trace that was sampled. One not sampled (`Sampled=0`, as Lambda passes when nothing upstream
 * traces) is not passed on: a worker would then record none of the workflow's spans, where without a
 * parent it starts a trace of its own.
 */
const fromXrayFields = (fields: Partial<Record<string, string>>): TraceContext | undefined => {
  const root = XRAY_ROOT.exec(fields.Root?.toLowerCase() ?? '')?.groups;
  const parent = fields.Parent?.toLowerCase();
  if (root === undefined || parent === undefined || !XRAY_PARENT.test(parent) || fields.Sampled !== '1') {
    return undefined;
  }
  return fromTraceparent(`00-${root.time}${root.id}-${parent}-01`);
};

/** SQS's AWSTraceHeader system attribute, or any X-Ray trace header. */
export const fromXrayHeader = (header: string | undefined): TraceContext | undefined =>
  header === undefined ? undefined : fromXrayFields(xrayFields(header));

/** The invocation's own X-Ray trace, as Lambda sets it (`_X_AMZN_TRACE_ID`, or its per-invocation store). */
export const fromLambdaTrace = (): TraceContext | undefined => {
  const fields = getXrayTraceDataFromEnv();
  return fields === undefined ? undefined : fromXrayFields(fields);
};
