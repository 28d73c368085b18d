import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import { TRACE_HEADER, traceInterceptor, withTrace } from '#lib/temporal/trace.ts';
import { fromLambdaTrace, fromTraceparent, fromXrayHeader } from '#lib/trace/context.ts';

const TRACE_ID = '5759e988bd862e3fe1be46a994272793';
const SPAN_ID = '53995c3f42cd8ad8';

describe('fromTraceparent', () => {
  it('takes a valid version 00 header, with its tracestate', () => {
    assert.deepEqual(fromTraceparent(`00-${TRACE_ID}-${SPAN_ID}-01`, 'vendor=value'), {
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
      tracestate: 'vendor=value',
    });
  });

  it('refuses malformed headers, all-zero IDs and version ff', () => {
    for (const header of [
      undefined,
      '',
      `00-${TRACE_ID}-${SPAN_ID}`,
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`,
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${TRACE_ID.slice(1)}x-${SPAN_ID}-01`,
    ]) {
      assert.equal(fromTraceparent(header), undefined, String(header));
    }
  });

  it('reads a later version by its first four fields', () => {
    assert.equal(
      fromTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-what-comes-next`)?.traceparent,
      `01-${TRACE_ID}-${SPAN_ID}-01`,
    );
  });
});

describe('fromXrayHeader', () => {
  it('maps a sampled X-Ray trace to W3C, fields in any order', () => {
    assert.deepEqual(fromXrayHeader(`Sampled=1;Parent=${SPAN_ID};Root=1-5759e988-bd862e3fe1be46a994272793`), {
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
    });
  });

  it('passes on no trace that is not sampled, has no parent or is malformed', () => {
    for (const header of [
      undefined,
      `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID};Sampled=0`,
      `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID};Sampled=?`,
      'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
      `Root=5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID};Sampled=1`,
    ]) {
      assert.equal(fromXrayHeader(header), undefined, String(header));
    }
  });

  it('reads the invocation’s trace from _X_AMZN_TRACE_ID', () => {
    const previous = process.env._X_AMZN_TRACE_ID;
    process.env._X_AMZN_TRACE_ID = `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID};Sampled=1`;
    try {
      assert.equal(fromLambdaTrace()?.traceparent, `00-${TRACE_ID}-${SPAN_ID}-01`);
    } finally {
      if (previous === undefined) delete process.env._X_AMZN_TRACE_ID;
      else process.env._X_AMZN_TRACE_ID = previous;
    }
  });
});

describe('traceInterceptor', () => {
  const interceptor = traceInterceptor() as Required<WorkflowClientInterceptor>;
  const carrier = (headers: Headers) => {
    const header = headers[TRACE_HEADER];
    return header === undefined ? undefined : defaultPayloadConverter.fromPayload(header);
  };
  /** The headers the next interceptor receives from a start. */
  const startHeaders = async (headers: Headers): Promise<Headers> => {
    let seen: Headers = {};
    await interceptor.startWithDetails({ headers } as never, async (input) => {
      seen = input.headers;
      return { runId: 'run', eagerlyStarted: false };
    });
    return seen;
  };
  const trace = { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'a=b' };

  it('writes the call’s trace in the header OpenTelemetry’s interceptors read', async () => {
    const headers = await withTrace(trace, () => startHeaders({}));
    assert.deepEqual(carrier(headers), trace);
  });

  it('writes nothing outside a traced call', async () => {
    assert.deepEqual(await startHeaders({}), {});
  });

  it('keeps a trace the user’s interceptors already wrote, and replaces an empty one', async () => {
    const theirs = {
      [TRACE_HEADER]: defaultPayloadConverter.toPayload({
        traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`,
      }),
    };
    assert.deepEqual(await withTrace(trace, () => startHeaders(theirs)), theirs);
    const empty = { [TRACE_HEADER]: defaultPayloadConverter.toPayload({}) };
    assert.deepEqual(carrier(await withTrace(trace, () => startHeaders(empty))), trace);
  });

  it('traces both parts of an update-with-start', async () => {
    let seen: { workflowStartHeaders: Headers; updateHeaders: Headers } | undefined;
    await withTrace(trace, () =>
      interceptor.startUpdateWithStart(
        { workflowStartHeaders: {}, updateHeaders: {} } as never,
        async (input) => {
          seen = input;
          return {} as never;
        },
      ),
    );
    assert.deepEqual(carrier(seen?.workflowStartHeaders ?? {}), trace);
    assert.deepEqual(carrier(seen?.updateHeaders ?? {}), trace);
  });
});
