import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { ACCOUNT_ID, lambdaContext, REGION } from './lambdaContext.ts';
import type { LocalDeployment } from './localDeployment.ts';

/**
 * The event bus of the local stack: an event put on it goes, through every rule of the deployment
 * whose pattern it matches, to the eventbridge function, invoked as Lambda invokes a function
 * asynchronously (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html):
 * a failed invocation is retried `eventbridgeRetries` times (serverless.yml's maximumRetryAttempts),
 * then its invocation record goes to the on-failure destination, the events dead-letter queue. A
 * schedule (a rule with a schedule expression, or an EventBridge Scheduler schedule) fires on demand.
 *
 * Where it differs from AWS: retries come after `retryDelaysMs` (AWS waits about one and then two
 * minutes); the rules match by the patterns the deployment derives (exact values, nested `detail`
 * fields), not by EventBridge's whole pattern language; schedules never fire by themselves.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:local-eventbridge`;

/** What one rule's delivery of an event came to. */
export interface Delivery {
  readonly rule: string;
  readonly attempts: number;
  /** The function's result on the attempt that succeeded. */
  readonly result?: unknown;
  /** The last attempt's error, and the dead-letter message that holds the invocation record. */
  readonly error?: { readonly type: string; readonly message: string };
  readonly deadLetterMessageId?: string;
}

export interface LocalBus {
  /** Where `npm run send` reaches it: POST /events and POST /schedules/<name>. */
  readonly url: string;
  /** Puts a custom event on the bus; one delivery per rule that matches (none: EventBridge drops it). */
  put(source: string, detailType: string, detail: unknown): Promise<Delivery[]>;
  /** Fires a schedule: a scheduled rule by its name, or a Scheduler schedule by `group/name` or `name`. */
  fire(name: string): Promise<Delivery>;
  stop(): Promise<void>;
}

/** `pattern` matches `value` as the derived patterns say: a list of allowed values, or nested fields. */
export const matches = (pattern: unknown, value: unknown): boolean => {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(value) ? value : [value];
    return values.some((item) => pattern.some((allowed) => allowed === item));
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([key, inner]) =>
      matches(inner, (value as Record<string, unknown>)[key]),
    );
  }
  return false;
};

/** EventBridge's time: whole seconds, UTC. */
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

const envelope = (source: string, detailType: string, detail: unknown, resources: string[] = []) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': detailType,
  source,
  account: ACCOUNT_ID,
  time: now(),
  region: REGION,
  resources,
  detail,
});

const errorOf = (error: unknown) => ({
  type: error instanceof Error ? error.name : 'Error',
  message: error instanceof Error ? error.message : String(error),
});

const readBody = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
};

export const startLocalBus = async (options: {
  readonly deployment: LocalDeployment;
  readonly handler: Handler;
  /** The local SQS client and the events dead-letter queue's URL; without them, the record is logged. */
  readonly deadLetters?: { readonly sqs: SQSClient; readonly url: string };
  readonly retryDelaysMs?: readonly number[];
  readonly log?: (message: string) => void;
}): Promise<LocalBus> => {
  const { deployment, handler, deadLetters, log = () => {} } = options;
  const retryDelaysMs = options.retryDelaysMs ?? [1000, 2000];

  /** One asynchronous invocation, with its retries, then the on-failure destination. */
  const deliver = async (rule: string, event: Record<string, unknown>): Promise<Delivery> => {
    const attempts = deployment.eventbridgeRetries + 1;
    let last: unknown;
    const requestId = randomUUID();
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        const context = lambdaContext({
          functionName: 'local-eventbridge',
          timeoutMs: deployment.eventbridgeTimeoutSeconds * 1000,
        });
        const result = await handler(event, context);
        log(`rule ${rule}: delivered on attempt ${attempt}`);
        return { rule, attempts: attempt, result };
      } catch (error) {
        last = error;
        const delay = retryDelaysMs[attempt - 1] ?? retryDelaysMs.at(-1) ?? 0;
        if (attempt < attempts) {
          log(`rule ${rule}: attempt ${attempt} failed (${errorOf(error).type}); retrying in ${delay} ms`);
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    }
    // Lambda's invocation record, as the on-failure destination receives it.
    const record = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId,
        functionArn: `${FUNCTION_ARN}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: attempts,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: errorOf(last).type, errorMessage: errorOf(last).message },
    };
    if (deadLetters === undefined) {
      log(`rule ${rule}: failed ${attempts} times; no local SQS for the record: ${JSON.stringify(record)}`);
      return { rule, attempts, error: errorOf(last) };
    }
    const { MessageId } = await deadLetters.sqs.send(
      new SendMessageCommand({ QueueUrl: deadLetters.url, MessageBody: JSON.stringify(record) }),
    );
    log(
      `rule ${rule}: failed ${attempts} times; the invocation record is in ${deployment.eventsDeadLetterQueue}`,
    );
    return { rule, attempts, error: errorOf(last), ...(MessageId && { deadLetterMessageId: MessageId }) };
  };

  const put = async (source: string, detailType: string, detail: unknown): Promise<Delivery[]> => {
    const event = envelope(source, detailType, detail);
    const rules = deployment.rules.filter(({ pattern }) => pattern !== undefined && matches(pattern, event));
    if (rules.length === 0) log(`no rule matches source "${source}" and detail-type "${detailType}"`);
    return Promise.all(rules.map(({ name }) => deliver(name, event)));
  };

  const fire = async (name: string): Promise<Delivery> => {
    const rule = deployment.rules.find((each) => each.schedule !== undefined && each.name === name);
    if (rule !== undefined) {
      const resources = [`arn:aws:events:${REGION}:${ACCOUNT_ID}:rule/${rule.name}`];
      return deliver(rule.name, envelope('aws.events', 'Scheduled Event', {}, resources));
    }
    const schedule = deployment.schedules.find(
      (each) => `${each.group}/${each.name}` === name || (each.group === 'default' && each.name === name),
    );
    if (schedule === undefined) {
      const known = [
        ...deployment.rules.filter((each) => each.schedule !== undefined).map((each) => each.name),
        ...deployment.schedules.map((each) => `${each.group}/${each.name}`),
      ];
      throw new Error(`no schedule "${name}"; the schedules are: ${known.join(', ') || '(none)'}`);
    }
    // EventBridge Scheduler's default payload for a Lambda target with no input.
    const arn = `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/${schedule.group}/${schedule.name}`;
    return deliver(`${schedule.group}/${schedule.name}`, {
      ...envelope('aws.scheduler', 'Scheduled Event', '{}', [arn]),
    });
  };

  const server = createServer((request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const path = request.url ?? '/';
    const handle = async () => {
      if (request.method === 'POST' && path === '/events') {
        const body = (await readBody(request)) as {
          source?: unknown;
          detailType?: unknown;
          detail?: unknown;
        };
        if (typeof body?.source !== 'string' || typeof body.detailType !== 'string') {
          return answer(400, { message: 'an event needs "source" and "detailType"' });
        }
        return answer(200, { deliveries: await put(body.source, body.detailType, body.detail ?? {}) });
      }
      if (request.method === 'POST' && path.startsWith('/schedules/')) {
        const name = decodeURIComponent(path.slice('/schedules/'.length));
        return answer(200, { deliveries: [await fire(name)] });
      }
      return answer(404, { message: 'POST /events or POST /schedules/<name>' });
    };
    handle().catch((error: unknown) => answer(400, { message: errorOf(error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    put,
    fire,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
