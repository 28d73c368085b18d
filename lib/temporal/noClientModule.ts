import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { FailureConverter, PayloadCodec, PayloadConverter } from '@temporalio/common';

/**
 * The client module when none is configured: the SDK's defaults. The build replaces this module with
 * the one `npm run build -- --client-module <file>` names (see `ClientModule` in client.ts); it costs
 * nothing when absent.
 */
export const payloadConverter: PayloadConverter | undefined = undefined;
export const failureConverter: FailureConverter | undefined = undefined;
export const payloadCodecs: PayloadCodec[] | undefined = undefined;
export const interceptors: WorkflowClientInterceptor[] | undefined = undefined;
