import type { Context } from 'aws-lambda';
import { config } from '#lib/config.ts';
import { deadlineFrom, waitDeadlineFrom } from '#lib/deadline.ts';
import { callerScope } from '#lib/normalize/callerScope.ts';
import { checkBody, type HttpRequest, matchHttp, startRequestOf } from '#lib/normalize/http.ts';
import type { Routes } from '#lib/routes/load.ts';
import { startWorkflow } from '#lib/start.ts';
import { awaitOutcome, workflowStatus } from '#lib/status.ts';
import { preferredWaitSeconds } from './prefer.ts';
import { type HttpResponse, startedResponse, statusResponse } from './response.ts';
import { verifySignature } from './signature.ts';

/**
 * Answers one API Gateway request. Everything that can refuse a request without Temporal does so
 * first, in this order: route and method (404, 405), body size and type (413, 415), the webhook
 * signature (401), then the body and templates (400, 403, 422). Only then is Temporal called.
 */
export const handleHttp = async (
  routes: Routes,
  request: HttpRequest,
  context: Context,
  invokedAt: number,
): Promise<HttpResponse> => {
  const target = matchHttp(routes, request);
  checkBody(request, config().maxBodyBytes);
  const scope = request.caller === undefined ? undefined : callerScope(request.caller);
  if (target.kind === 'status') {
    return statusResponse(await workflowStatus(routes, target.workflowId, deadlineFrom(context), scope));
  }
  const signature = target.kind === 'route' ? target.route.http?.signature : undefined;
  if (target.kind === 'route' && signature !== undefined) {
    await verifySignature(signature, target.route.name, request);
  }
  const result = await startWorkflow(startRequestOf(routes, target, request), deadlineFrom(context));
  const seconds = preferredWaitSeconds(request.headers.prefer);
  if (seconds === undefined) return startedResponse(result);
  const outcome = await awaitOutcome(result, waitDeadlineFrom(context, seconds, invokedAt), scope);
  return startedResponse(result, { preference: `wait=${seconds}`, outcome });
};
