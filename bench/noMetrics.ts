import type * as metrics from '#lib/metrics.ts';

/**
 * lib/metrics.ts with nothing counted and nothing written: the bench builds the http function with
 * this in its place, as the reference for what the metrics cost at cold start and per invocation.
 */
export const measured: typeof metrics.measured = (_trigger, _context, fn) => fn();
export const countAction: typeof metrics.countAction = () => {};
export const countFailure: typeof metrics.countFailure = () => {};
export const labelInvocation: typeof metrics.labelInvocation = () => {};
export const countBatch: typeof metrics.countBatch = () => {};
export const countConnectionEvent: typeof metrics.countConnectionEvent = () => {};
