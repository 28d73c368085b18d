import type { Context, SNSEvent, SNSEventRecord, SNSMessage } from 'aws-lambda';
import type { WorkflowResult } from '#lib/actions.ts';
import { parseJson } from '#lib/encoding.ts';
import { NoRouteError } from '#lib/errors.ts';
import { fromEnvelope, fromRoute, withEventId } from '#lib/normalize/resolve.ts';
import type { WorkflowRequest } from '#lib/normalize/types.ts';
import { attributeConditions, type ConditionsOf, condition, firstMatch } from '#lib/routes/conditions.ts';
import type { Routes } from '#lib/routes/model.ts';
import type { Route } from '#lib/routes/schema.ts';
import { actOnEach } from './event.ts';

/*
 * The SNS source: a subscription delivers one message per invocation, asynchronously. Each message is a
 * request (its route, or the canonical envelope in message attributes, as on SQS); a failure is thrown,
 * so Lambda's asynchronous retries, then the function's on-failure destination, apply.
 */

export const isSnsEvent = (event: unknown): event is SNSEvent =>
  (event as Partial<SNSEvent> | undefined)?.Records?.[0]?.EventSource === 'aws:sns';

/** `arn:aws:sns:us-east-1:123456789012:orders` → `orders` */
const topicName = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);

/** String and Number attributes, by name, as their text: what routes match and templates read. */
const attributesOf = (sns: Pick<SNSMessage, 'MessageAttributes'>): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(sns.MessageAttributes ?? {})) {
    if (attribute.Type === 'String' || attribute.Type === 'Number') result[name] = attribute.Value;
  }
  return result;
};

/** What an SNS route asks of a message: its topic, and each message attribute it names, with that value. */
export const snsConditions = (
  message: Pick<SNSMessage, 'TopicArn' | 'MessageAttributes'>,
): ConditionsOf<Route> => {
  const topic = topicName(message.TopicArn);
  const attributes = attributesOf(message);
  return ({ sns }) => [
    condition('topic', sns?.topic, topic),
    ...attributeConditions(sns?.attributes, attributes),
  ];
};

/**
 * Builds the request for one SNS message: the first route whose topic and attributes match, else the
 * canonical envelope (message attribute `workflowType`, optional `workflowId`). The message ID, the
 * same on every delivery of one message, is its identity.
 */
export const normalizeSnsRecord = (routes: Routes, record: SNSEventRecord): WorkflowRequest => {
  const { MessageId: messageId, TopicArn, Message, Subject, Timestamp } = record.Sns;
  const topic = topicName(TopicArn);
  const attributes = attributesOf(record.Sns);
  const identity = { name: 'message ID', value: messageId };
  const route = firstMatch(routes.sns, snsConditions(record.Sns));
  const message = parseJson(Message, `The message ${messageId}`);
  let request: WorkflowRequest;
  if (route !== undefined) {
    const context = { message, subject: Subject ?? null, attributes, messageId, topic, timestamp: Timestamp };
    request = fromRoute(routes, route, context, identity, Date.parse(Timestamp) || undefined);
  } else if (attributes.workflowType !== undefined) {
    const envelope = {
      workflowType: attributes.workflowType,
      workflowId: attributes.workflowId,
      input: message,
    };
    request = fromEnvelope(routes, envelope, identity);
  } else {
    throw new NoRouteError(`No route for topic "${topic}" and no workflowType message attribute`);
  }
  return withEventId(request, messageId);
};

/** Acts on the messages of an SNS invocation, one after another; the first failure is thrown. */
export const handleSns = (routes: Routes, event: SNSEvent, context: Context): Promise<WorkflowResult[]> =>
  actOnEach(
    event.Records,
    (record) => record.Sns.MessageId,
    (record) => normalizeSnsRecord(routes, record),
    context,
  );
