/**
 * The start options that a workflow type and a route may both set (see `startOptionsShape` in
 * schema.ts, which a test keeps equal to this list). Apart from the schema, so that a cold start,
 * which never loads zod, can pick them from a bundled routes file.
 */
export const START_OPTION_KEYS = [
  'memo',
  'searchAttributes',
  'startDelay',
  'executionTimeout',
  'runTimeout',
  'taskTimeout',
  'retry',
  'priority',
  'staticSummary',
  'staticDetails',
] as const;
