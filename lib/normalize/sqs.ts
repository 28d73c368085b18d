import type { SQSRecord } from 'aws-lambda';
import { MalformedJsonError, NoRouteError } from '#lib/errors.ts';
import type { Routes } from '#lib/routes/model.ts';
import { fromEnvelope, fromRoute, withEventId } from './resolve.ts';
import type { WorkflowRequest } from './types.ts';

/** `arn:aws:sqs:us-east-1:123456789012:orders` → `orders` */
const queueName = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);

/** Message bodies are JSON. One that is not can never start a workflow: a permanent failure. */
const parseBody = (body: string, messageId: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    // No `cause`: JSON.parse's message quotes the body, which must never reach a log.
    throw new MalformedJsonError(`The body of message ${messageId} is not valid JSON`);
  }
};

const stringAttributes = (record: SQSRecord): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(record.messageAttributes ?? {})) {
    if (attribute.stringValue !== undefined) result[name] = attribute.stringValue;
  }
  return result;
};

const normalizeRecord = (routes: Routes, record: SQSRecord): WorkflowRequest => {
  const queue = queueName(record.eventSourceARN);
  const attributes = stringAttributes(record);
  const route = routes.sqs.find(
    ({ sqs }) =>
      sqs?.queue === queue &&
      Object.entries(sqs.attributes ?? {}).every(([name, value]) => attributes[name] === value),
  );
  const { messageId } = record;
  const body = parseBody(record.body, messageId);
  if (route !== undefined) {
    const groupId = record.attributes.MessageGroupId;
    const context = { body, attributes, messageId, queue, ...(groupId && { groupId }) };
    const sentAt = Number(record.attributes.SentTimestamp) || undefined;
    return fromRoute(routes, route, context, { name: 'message ID', value: messageId }, sentAt);
  }
  if (attributes.workflowType === undefined) {
    throw new NoRouteError(`No route for queue "${queue}" and no workflowType message attribute`);
  }
  return fromEnvelope(
    routes,
    { workflowType: attributes.workflowType, workflowId: attributes.workflowId, input: body },
    { name: 'message ID', value: messageId },
  );
};

/**
 * Builds the start request for one SQS record: the first route whose queue and attributes match,
 * else the canonical envelope (message attribute `workflowType`, optional `workflowId`).
 */
export const normalizeSqsRecord = (routes: Routes, record: SQSRecord): WorkflowRequest =>
  withEventId(normalizeRecord(routes, record), record.messageId);
