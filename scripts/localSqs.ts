import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { startElasticMq } from './elasticMq.ts';
import { ACCOUNT_ID, lambdaContext, REGION } from './lambdaContext.ts';
import type { LocalDeployment, LocalQueue } from './localDeployment.ts';

/**
 * SQS for the local stack: an SQS-compatible server (ElasticMQ, scripts/elasticMq.ts) holds the
 * deployment's queues (dead-letter queues and redrive policies included), and a poller per mapped
 * queue delivers batches to the sqs function as Lambda's event source mapping does:
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 *
 * - batches of the mapping's batch size, gathered for up to its batching window (none for FIFO);
 * - `ReportBatchItemFailures`: only the records the function does not report are deleted, and the
 *   rest become visible again after the visibility timeout;
 * - an invocation that throws deletes nothing: the whole batch returns;
 * - FIFO: the server returns a group's messages in order, and none while another of the group is in
 *   flight, as SQS does;
 * - the server counts receives and moves a message to the dead-letter queue once it has been received
 *   maxReceiveCount times.
 *
 * Where it differs from AWS: one poller per queue, one batch at a time (AWS scales to the mapping's
 * maximum concurrency); the visibility timeout may be shortened (`visibilityTimeoutSeconds`), so that
 * a failed message comes back in seconds; no 6 MB batch limit.
 */

type SqsHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

/** What one invocation of the sqs function did with a batch. */
export interface BatchReport {
  readonly queue: string;
  readonly messageIds: readonly string[];
  /** The records it reported failed: they return to the queue. */
  readonly failed: readonly string[];
  /** Set when the invocation threw: the whole batch returns to the queue. */
  readonly error?: unknown;
}

export interface LocalSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  /** The URL of a queue of the deployment, by name. */
  url(name: string): string;
  /** Starts delivering each mapped queue's messages to `handler`. */
  poll(handler: SqsHandler, onBatch?: (report: BatchReport) => void): void;
  /** Stops the pollers (after their batch in flight) and the server. */
  stop(): Promise<void>;
}

/** How long one receive waits for a message: also how long stopping a poller may take. */
const WAIT_SECONDS = 1;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const systemAttributes = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
  'MessageGroupId',
  'MessageDeduplicationId',
  'SequenceNumber',
  'AWSTraceHeader',
] as const;

/** A received message as a record of Lambda's SQS event. */
export const recordOf = (message: Message, queue: string): SQSRecord => {
  const attributes: Record<string, string> = {};
  for (const name of systemAttributes) {
    const value = message.Attributes?.[name];
    if (value !== undefined) attributes[name] = value;
  }
  const messageAttributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      {
        ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
        ...(value.BinaryValue !== undefined && {
          binaryValue: Buffer.from(value.BinaryValue).toString('base64'),
        }),
        stringListValues: [],
        binaryListValues: [],
        dataType: value.DataType ?? 'String',
      },
    ]),
  );
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: attributes as unknown as SQSRecord['attributes'],
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${queue}`,
    awsRegion: REGION,
  };
};

/** Creates the deployment's queues, dead-letter queues first, with their redrive policies. */
const createQueues = async (
  client: SQSClient,
  deployment: LocalDeployment,
  visibilityTimeoutSeconds: number | undefined,
): Promise<Map<string, string>> => {
  const urls = new Map<string, string>();
  const create = async (name: string, attributes: Record<string, string>) => {
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    urls.set(name, QueueUrl ?? '');
  };
  const arn = async (name: string) => {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: urls.get(name), AttributeNames: ['QueueArn'] }),
    );
    return Attributes?.QueueArn ?? '';
  };
  const ordered = [...deployment.queues].sort(
    (a, b) => Number(a.redrive !== undefined) - Number(b.redrive !== undefined),
  );
  for (const queue of ordered) {
    await create(queue.name, {
      ...(queue.fifo && { FifoQueue: 'true', ContentBasedDeduplication: 'true' }),
      VisibilityTimeout: String(visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds),
      ...(queue.redrive && {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: await arn(queue.redrive.deadLetterQueue),
          maxReceiveCount: queue.redrive.maxReceiveCount,
        }),
      }),
    });
  }
  await create(deployment.eventsDeadLetterQueue, {});
  return urls;
};

/** Delivers one mapped queue's messages to the handler until stopped. */
const pollQueue = (
  client: SQSClient,
  queue: LocalQueue & { mapping: NonNullable<LocalQueue['mapping']> },
  url: string,
  timeoutMs: number,
  handler: SqsHandler,
  onBatch: (report: BatchReport) => void,
  stopped: () => boolean,
): Promise<void> => {
  const receive = async (count: number, waitSeconds: number): Promise<Message[]> => {
    const { Messages } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, count),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages ?? [];
  };
  const { batchSize, batchingWindowSeconds } = queue.mapping;
  const deliver = async (messages: Message[]) => {
    const event: SQSEvent = { Records: messages.map((message) => recordOf(message, queue.name)) };
    const messageIds = event.Records.map(({ messageId }) => messageId);
    let response: SQSBatchResponse | undefined;
    try {
      response = (await handler(event, lambdaContext({ functionName: 'local-sqs', timeoutMs }))) as
        | SQSBatchResponse
        | undefined;
    } catch (error) {
      onBatch({ queue: queue.name, messageIds, failed: messageIds, error });
      return;
    }
    const failed = new Set((response?.batchItemFailures ?? []).map(({ itemIdentifier }) => itemIdentifier));
    const done = messages.filter(({ MessageId }) => !failed.has(MessageId ?? ''));
    for (let at = 0; at < done.length; at += 10) {
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: done.slice(at, at + 10).map(({ MessageId, ReceiptHandle }, index) => ({
            Id: `${at + index}-${MessageId}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80),
            ReceiptHandle,
          })),
        }),
      );
    }
    onBatch({ queue: queue.name, messageIds, failed: [...failed] });
  };
  return (async () => {
    while (!stopped()) {
      try {
        const messages = await receive(batchSize, WAIT_SECONDS);
        if (messages.length === 0) continue;
        // A standard queue's mapping waits up to its batching window for a full batch.
        const until = Date.now() + batchingWindowSeconds * 1000;
        while (!queue.fifo && messages.length < batchSize && Date.now() < until && !stopped()) {
          const more = await receive(batchSize - messages.length, 0);
          if (more.length === 0) await sleep(Math.min(100, until - Date.now()));
          for (const message of more) {
            // Received again within the window (a visibility timeout shorter than it): the later receipt counts.
            const at = messages.findIndex(({ MessageId }) => MessageId === message.MessageId);
            if (at >= 0) messages.splice(at, 1);
            messages.push(message);
          }
        }
        await deliver(messages);
      } catch (error) {
        if (stopped()) return;
        onBatch({ queue: queue.name, messageIds: [], failed: [], error });
        await sleep(1000);
      }
    }
  })();
};

/**
 * Starts an SQS server with the deployment's queues. `visibilityTimeoutSeconds` replaces every
 * queue's own (the deployment's is six times the function's timeout: minutes).
 */
export const startLocalSqs = async (
  deployment: LocalDeployment,
  options: { readonly visibilityTimeoutSeconds?: number } = {},
): Promise<LocalSqs> => {
  // A message must stay hidden while its batch is gathered, or the window would receive it twice.
  const longestWindow = Math.max(
    0,
    ...deployment.queues.map(({ mapping }) => mapping?.batchingWindowSeconds ?? 0),
  );
  if (options.visibilityTimeoutSeconds !== undefined && options.visibilityTimeoutSeconds <= longestWindow) {
    throw new Error(
      `a visibility timeout of ${options.visibilityTimeoutSeconds} s is not longer than the batching window (${longestWindow} s)`,
    );
  }
  const server = await startElasticMq();
  const client = new SQSClient({
    endpoint: server.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let urls: Map<string, string>;
  try {
    urls = await createQueues(client, deployment, options.visibilityTimeoutSeconds);
  } catch (error) {
    client.destroy();
    await server.stop();
    throw error;
  }
  let stopping = false;
  const pollers: Promise<void>[] = [];
  return {
    endpoint: server.endpoint,
    client,
    url(name) {
      const url = urls.get(name);
      if (url === undefined)
        throw new Error(`no queue "${name}"; the queues are ${[...urls.keys()].join(', ')}`);
      return url;
    },
    poll(handler, onBatch = () => {}) {
      for (const queue of deployment.queues) {
        const { mapping } = queue;
        if (mapping === undefined) continue;
        const timeoutMs = deployment.sqsTimeoutSeconds * 1000;
        const url = urls.get(queue.name) ?? '';
        pollers.push(
          pollQueue(client, { ...queue, mapping }, url, timeoutMs, handler, onBatch, () => stopping),
        );
      }
    },
    async stop() {
      stopping = true;
      await Promise.all(pollers);
      client.destroy();
      await server.stop();
    },
  };
};
