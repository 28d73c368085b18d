/** The kinds of trigger a route can have: exactly one per route. */
export const TRIGGERS = [
  'http',
  'sqs',
  'eventbridge',
  'schedule',
  'scheduler',
  'sns',
  's3',
  'kinesis',
  'dynamodb',
] as const;
export type TriggerKind = (typeof TRIGGERS)[number];
