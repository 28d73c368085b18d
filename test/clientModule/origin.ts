import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

/** The origin header, as the inbound interceptor below last saw it, per kind of call. */
const seen: Record<string, unknown> = {};

export const originOf = (kind: 'execute' | 'signal' | 'update'): unknown => seen[kind];

const read = (kind: string, headers: Record<string, unknown>) => {
  const header = headers['x-trigger-origin'];
  if (header !== undefined) seen[kind] = defaultPayloadConverter.fromPayload(header as never);
};

/** A workflow interceptor module: reads the header the client interceptor added, on each inbound call. */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      execute: (input, next) => {
        read('execute', input.headers);
        return next(input);
      },
      handleSignal: (input, next) => {
        read('signal', input.headers);
        return next(input);
      },
      handleUpdate: (input, next) => {
        read('update', input.headers);
        return next(input);
      },
    },
  ],
});
