import type { Context } from 'aws-lambda';
import { performAction } from '#lib/actions.ts';
import { config } from '#lib/config.ts';
import { API_GATEWAY_TIMEOUT_S, deadlineFrom, waitDeadlineFrom } from '#lib/deadline.ts';
import { preferredWaitSeconds } from '#lib/http/prefer.ts';
import { checkBody, type HttpRequest, matchHttp, workflowRequestOf } from '#lib/http/request.ts';
import { actionResponse, type HttpResponse, statusResponse } from '#lib/http/response.ts';
import { verifySignature } from '#lib/http/signature.ts';
import { labelInvocation } from '#lib/metrics.ts';
import { callerScope } from '#lib/normalize/callerScope.ts';
import type { Routes } from '#lib/routes/model.ts';
import { awaitOutcome, workflowStatus } from '#lib/status.ts';

/**
 * The HTTP source: one API Gateway request (decoded by lib/http/request.ts) in, one response out, in
 * one direction: route, check, verify the signature, build, call, respond.
 *
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
  const { maxBodyBytes, openapi } = config();
  const target = matchHttp(routes, request, { openapi });
  labelInvocation(
    target.kind === 'route'
      ? { route: target.route.name, workflowType: target.route.workflowType }
      : target.kind === 'envelope'
        ? { route: 'canonical', workflowType: target.workflowType }
        : { route: target.kind },
  );
  if (target.kind === 'openapi') {
    // The generator loads with the first request for it, never at cold start (infra/build.ts's budget).
    const { openapiResponse } = await import('#lib/http/openapiResponse.ts');
    return openapiResponse();
  }
  checkBody(request, maxBodyBytes);
  const scope = request.caller === undefined ? undefined : callerScope(request.caller);
  if (target.kind === 'status') {
    return statusResponse(await workflowStatus(routes, target.workflowId, deadlineFrom(context), scope));
  }
  const signature = target.kind === 'route' ? target.route.http?.signature : undefined;
  if (target.kind === 'route' && signature !== undefined) {
    await verifySignature(signature, target.route.name, request, deadlineFrom(context));
  }
  const workflowRequest = workflowRequestOf(routes, target, request);
  const seconds = preferredWaitSeconds(request.headers.prefer);
  const preference = seconds === undefined ? undefined : `wait=${seconds}`;
  if (workflowRequest.update !== undefined) {
    // An update's caller wants its result: wait for it within Prefer: wait, else as long as API Gateway allows.
    const waitUntil = waitDeadlineFrom(context, seconds ?? API_GATEWAY_TIMEOUT_S, invokedAt);
    return actionResponse(await performAction(workflowRequest, deadlineFrom(context), waitUntil), {
      preference,
    });
  }
  const result = await performAction(workflowRequest, deadlineFrom(context));
  if (seconds === undefined) return actionResponse(result);
  const waitUntil = waitDeadlineFrom(context, seconds, invokedAt);
  const outcome = await awaitOutcome(result, workflowRequest.target, waitUntil, scope);
  return actionResponse(result, { preference, outcome });
};
