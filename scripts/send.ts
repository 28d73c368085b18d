import { parseArgs } from 'node:util';
import {
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Delivery } from './localBus.ts';
import { readStack, STACK_FILE, type Stack } from './stackFile.ts';

/**
 * `npm run send`: puts something on the local stack `npm start` runs, the way it arrives in AWS.
 *
 *   npm run send -- sqs <queue> <json> [--attr name=value]... [--group <id>] [--dedup <id>]
 *   npm run send -- event <source> <detail-type> <json>
 *   npm run send -- schedule <rule, or group/name of a Scheduler schedule>
 *   npm run send -- peek <queue>      (a dead-letter queue, say: its messages, left where they are)
 *
 * A message goes to the local SQS server, where the poller delivers it to the sqs function as the
 * event source mapping would; an event goes to the local bus, which delivers it through the matching
 * rules; a schedule fires once. Exits non-zero when nothing was delivered or a delivery failed.
 */

export const USAGE = [
  'usage: npm run send -- sqs <queue> <json> [--attr name=value]... [--group <id>] [--dedup <id>]',
  '       npm run send -- event <source> <detail-type> <json>',
  '       npm run send -- schedule <rule, or group/name>',
  '       npm run send -- peek <queue>',
].join('\n');

export class UsageError extends Error {
  override name = 'UsageError';
}

const json = (text: string | undefined, what: string): unknown => {
  if (text === undefined) throw new UsageError(`${what} is missing\n${USAGE}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not JSON: ${text}`);
  }
};

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const sqsClient = (endpoint: string) =>
  new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

/** What a delivery came to, in one line. */
const describe = ({ rule, attempts, result, error, deadLetterMessageId }: Delivery): string => {
  if (error === undefined) {
    const { workflowId, started } = (result ?? {}) as { workflowId?: string; started?: boolean };
    return `rule ${rule}: delivered${workflowId ? ` (workflow ${workflowId}${started ? ', started' : ''})` : ''}`;
  }
  return `rule ${rule}: failed ${attempts} times (${error.type}: ${error.message}); invocation record ${deadLetterMessageId} in the events dead-letter queue`;
};

/** Sends what `args` say to `stack`; returns the lines to print and whether everything was delivered. */
export const send = async (
  args: readonly string[],
  stack: Stack,
): Promise<{ lines: string[]; ok: boolean }> => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      attr: { type: 'string', multiple: true },
      group: { type: 'string' },
      dedup: { type: 'string' },
    },
  });
  const [kind, ...rest] = positionals;
  const { sqsEndpoint, busUrl } = stack;
  if ((kind === 'sqs' || kind === 'peek') && sqsEndpoint === undefined) {
    throw new Error('the running npm start has no local SQS (it needs Java: see its output)');
  }
  if (kind === 'sqs' && sqsEndpoint !== undefined) {
    const [queue, body] = rest;
    if (queue === undefined || body === undefined) {
      throw new UsageError(`the queue or the body is missing\n${USAGE}`);
    }
    const attributes = Object.fromEntries(
      (values.attr ?? []).map((pair) => {
        const at = pair.indexOf('=');
        if (at <= 0) throw new UsageError(`--attr takes name=value, got "${pair}"`);
        return [pair.slice(0, at), { DataType: 'String', StringValue: pair.slice(at + 1) }];
      }),
    );
    if (queue.endsWith('.fifo') && values.group === undefined) {
      throw new UsageError(`${queue} is a FIFO queue: give the message group with --group <id>`);
    }
    const client = sqsClient(sqsEndpoint);
    try {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: queue }));
      const { MessageId } = await client.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: body,
          MessageAttributes: attributes,
          ...(values.group !== undefined && { MessageGroupId: values.group }),
          ...(values.dedup !== undefined && { MessageDeduplicationId: values.dedup }),
        }),
      );
      const lines = [`sent message ${MessageId} to ${queue}; npm start shows what the sqs function did`];
      if (!isJson(body)) {
        lines.push(
          'its body is not JSON: the sqs function fails it for good, and it moves to the dead-letter queue after maxReceiveCount receives',
        );
      }
      return { lines, ok: true };
    } finally {
      client.destroy();
    }
  }
  const post = async (path: string, payload?: unknown): Promise<Delivery[]> => {
    const response = await fetch(`${busUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(payload !== undefined && { body: JSON.stringify(payload) }),
    });
    const answer = (await response.json()) as { deliveries?: Delivery[]; message?: string };
    if (!response.ok) throw new UsageError(answer.message ?? `the bus answered ${response.status}`);
    return answer.deliveries ?? [];
  };
  if (kind === 'peek' && sqsEndpoint !== undefined) {
    const [queue] = rest;
    if (queue === undefined) throw new UsageError(USAGE);
    const client = sqsClient(sqsEndpoint);
    try {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: queue }));
      // Looked at, not taken: a visibility timeout of 0 leaves each message where it was.
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const lines = Messages.map(
        ({ MessageId, Body, Attributes }) =>
          `${MessageId}  received ${Attributes?.ApproximateReceiveCount ?? '?'} times  ${Body}`,
      );
      return { lines: lines.length > 0 ? lines : [`${queue} holds no visible message`], ok: true };
    } finally {
      client.destroy();
    }
  }
  if (busUrl === undefined) throw new Error('the running npm start has no local event bus');
  if (kind === 'event') {
    const [source, detailType, detail] = rest;
    if (source === undefined || detailType === undefined) throw new UsageError(USAGE);
    const deliveries = await post('/events', { source, detailType, detail: json(detail, 'the detail') });
    if (deliveries.length === 0) {
      return {
        lines: [`no rule matches source "${source}" and detail-type "${detailType}": dropped`],
        ok: false,
      };
    }
    return { lines: deliveries.map(describe), ok: deliveries.every(({ error }) => error === undefined) };
  }
  if (kind === 'schedule') {
    const [name] = rest;
    if (name === undefined) throw new UsageError(USAGE);
    const deliveries = await post(`/schedules/${encodeURIComponent(name)}`);
    return { lines: deliveries.map(describe), ok: deliveries.every(({ error }) => error === undefined) };
  }
  throw new UsageError(USAGE);
};

if (import.meta.main) {
  const stack = await readStack();
  if (stack === undefined) {
    process.stderr.write(
      `No local stack is running (no live ${STACK_FILE}): run npm start in another terminal first.\n`,
    );
    process.exit(1);
  }
  try {
    const { lines, ok } = await send(process.argv.slice(2), stack);
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exitCode = ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
