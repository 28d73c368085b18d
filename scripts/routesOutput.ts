import type { Condition } from '#lib/routes/conditions.ts';
import { TRIGGERS } from '#lib/routes/triggers.ts';
import type { CheckResult } from './routesCheck.ts';
import {
  type Explanation,
  type Failure,
  type NearRoute,
  RECORDS,
  type Source,
  succeeded,
} from './routesExplain.ts';

/* The human-readable output of `npm run routes`; `--json` prints the same results as JSON. */

const SOURCES: Readonly<Record<Source, string>> = {
  http: 'An HTTP request (http function)',
  sqs: 'An SQS batch (sqs function)',
  kinesis: 'A Kinesis batch (streams function)',
  dynamodb: 'A DynamoDB Streams batch (streams function)',
  sns: 'An SNS notification (eventbridge function)',
  s3: 'An S3 event notification (eventbridge function)',
  's3-test': "S3's test event (eventbridge function)",
  eventbridge: 'An EventBridge input (eventbridge function)',
};

/** A value as JSON, undefined as "nothing". */
const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

const conditionLine = ({ name, expected, actual, met }: Condition): string =>
  met ? `✔ ${name} ${show(expected)}` : `✖ ${name}: expected ${show(expected)}, got ${show(actual)}`;

const nearLines = (trigger: string, nearest: readonly NearRoute[]): string[] => {
  if (nearest.length === 0) return [`    the routes file has no ${trigger} routes`];
  return [
    `    nearest ${trigger} routes:`,
    ...nearest.flatMap(({ name, met, conditions }) => [
      `      "${name}": ${met} of ${conditions.length} conditions met`,
      ...conditions.map((condition) => `        ${conditionLine(condition)}`),
    ]),
  ];
};

const failureLines = ({ name, message, statusCode, permanent, fields }: Failure): string[] => {
  const kind = [statusCode, permanent === undefined ? undefined : permanent ? 'permanent' : 'transient']
    .filter((part) => part !== undefined)
    .join(', ');
  return [
    `  ✖ ${name}${kind === '' ? '' : ` (${kind})`}: ${message}`,
    // A list (an input schema's violations, say) an item a line.
    ...Object.entries(fields).flatMap(([key, value]) =>
      Array.isArray(value)
        ? [`      ${key}:`, ...value.map((item) => `        - ${show(item)}`)]
        : [`      ${key}: ${show(value)}`],
    ),
  ];
};

const matchLines = (explanation: Explanation): string[] => {
  const { match, trigger, route, workflowId, signature, nearest } = explanation;
  if (match === 'route' && route !== undefined) {
    const conditions = route.conditions.map(({ name, expected }) => `${name} ${show(expected)}`).join(', ');
    const lines = [`  ✔ route "${route.name}" matches (${trigger}: ${conditions})`];
    if (signature !== undefined) {
      const where = signature.header === undefined ? '' : ` in header ${signature.header}`;
      const present = signature.present ? 'the event carries it' : 'the event does not carry it';
      lines.push(
        `  ⚠ the route requires a ${signature.scheme} signature${where} (${present}); explain does not verify it and reads no secret`,
      );
    }
    return lines;
  }
  if (match === 'acknowledged') {
    return ['  ✔ S3 sends it when a notification configuration is saved: acknowledged, nothing started'];
  }
  if (match === 'openapi') {
    return ["  ✔ GET /openapi.json: the HTTP API's OpenAPI document (HTTP_OPENAPI is on); it starts nothing"];
  }
  if (match === 'status') {
    return [`  ✔ GET /workflows/{id}: the status of workflow ${show(workflowId)}; it starts nothing`];
  }
  if (trigger === undefined) return ['  ✔ not a routed event: the canonical envelope'];
  if (match === 'envelope') return ['  ✔ no route matches: the canonical envelope'];
  return [`  ✖ no ${trigger} route matches`, ...nearLines(trigger, nearest ?? [])];
};

const requestLines = (explanation: Explanation): string[] => {
  const { request } = explanation;
  if (request === undefined) return [];
  const width = Math.max(...Object.keys(request).map((key) => key.length));
  return [
    `  → ${request.action} ${request.workflowType} as ${show(request.workflowId)}: the request performAction would get`,
    ...Object.entries(request)
      .filter(([key]) => key !== 'route')
      .map(([key, value]) => `      ${key.padEnd(width)}  ${show(value)}`),
  ];
};

const explanationLines = (explanation: Explanation): string[] => [
  ...matchLines(explanation),
  ...(explanation.error === undefined ? [] : failureLines(explanation.error)),
  ...requestLines(explanation),
];

/** `1 record`, `3 records` */
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

const summary = (batch: boolean, explanations: readonly Explanation[]): string => {
  const failed = explanations.filter((explanation) => !succeeded(explanation)).length;
  const [only] = explanations;
  if (!batch && only !== undefined) {
    if (failed > 0) return '✖ it would fail';
    return only.match === 'route' || only.match === 'envelope'
      ? '✔ it matches and normalizes'
      : '✔ it starts nothing';
  }
  if (failed > 0) return `✖ ${failed} of ${count(explanations.length, 'record')} would fail`;
  return explanations.length === 1
    ? '✔ the record matches and normalizes'
    : `✔ all ${explanations.length} records match and normalize`;
};

/** What explain prints: each event (each record of a batch), then a summary line. */
export const formatExplanations = (source: Source, explanations: readonly Explanation[]): string => {
  const batch = RECORDS.has(source);
  const lines = [`${SOURCES[source]}${batch ? ` of ${count(explanations.length, 'record')}` : ''}`];
  explanations.forEach((explanation, index) => {
    lines.push(
      '',
      batch ? `record ${index + 1} of ${explanations.length}: ${explanation.event}` : explanation.event,
    );
    lines.push(...explanationLines(explanation));
  });
  lines.push('', summary(batch, explanations));
  return `${lines.join('\n')}\n`;
};

/** What check prints: a problem or warning a line, then a summary line. */
export const formatCheck = (file: string, { problems, warnings, routes }: CheckResult): string => {
  const lines = [...problems.map((problem) => `✖ ${problem}`), ...warnings.map((warning) => `⚠ ${warning}`)];
  if (routes === undefined) {
    lines.push(`✖ ${file} is invalid: ${count(problems.length, 'problem')}`);
  } else {
    const total = TRIGGERS.reduce((sum, kind) => sum + routes[kind].length, 0);
    const warned = warnings.length === 0 ? '' : `, ${count(warnings.length, 'warning')}`;
    lines.push(
      `✔ ${file} is valid: ${count(routes.workflows.size, 'workflow type')}, ${count(total, 'route')}${warned}`,
    );
  }
  return `${lines.join('\n')}\n`;
};
