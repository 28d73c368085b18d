import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  readonly functionName?: string;
  /** The function's timeout; `getRemainingTimeInMillis()` counts down from it (default 29 s, API Gateway's limit). */
  readonly timeoutMs?: number;
  readonly memoryLimitInMB?: number;
}

/** The region and account of everything local: contexts, and the local stack's ARNs and events. */
export const REGION = process.env.AWS_REGION ?? 'us-east-1';
export const ACCOUNT_ID = '123456789012';

/**
 * A Lambda context for one local invocation, with a deadline that starts now. Field values follow
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html.
 */
export const lambdaContext = (options: LambdaContextOptions = {}): Context => {
  const functionName = options.functionName ?? 'local';
  const deadline = Date.now() + (options.timeoutMs ?? 29_000);
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = (): never => {
    throw new Error('context.done/fail/succeed are not supported: return or throw from the handler');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${date}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
};
