import type { WorkflowClientInterceptor } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptingCodec } from './codec.ts';

/**
 * A client module as a project would write one (`npm run build -- --client-module <file>`): an
 * encrypting payload codec, and an interceptor that adds a header to every start, signal and update,
 * for the workflow to read (as a tracing interceptor carries its context).
 */
export const ORIGIN_HEADER = 'x-trigger-origin';
export const ORIGIN = 'temporal-aws-triggers test';

const origin = () => ({ [ORIGIN_HEADER]: defaultPayloadConverter.toPayload(ORIGIN) });

export const payloadCodecs = [new EncryptingCodec()];

export const interceptors: WorkflowClientInterceptor[] = [
  {
    start: (input, next) => next({ ...input, headers: { ...input.headers, ...origin() } }),
    startWithDetails: (input, next) => next({ ...input, headers: { ...input.headers, ...origin() } }),
    signalWithStart: (input, next) => next({ ...input, headers: { ...input.headers, ...origin() } }),
    signal: (input, next) => next({ ...input, headers: { ...input.headers, ...origin() } }),
    startUpdate: (input, next) => next({ ...input, headers: { ...input.headers, ...origin() } }),
    startUpdateWithStart: (input, next) =>
      next({
        ...input,
        workflowStartHeaders: { ...input.workflowStartHeaders, ...origin() },
        updateHeaders: { ...input.updateHeaders, ...origin() },
      }),
  },
];
