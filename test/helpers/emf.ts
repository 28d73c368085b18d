/** One CloudWatch embedded-metric-format line, as Powertools Metrics writes it. */
export interface EmfLine {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/** The EMF lines among a capture's JSON records. */
export const emfLines = (records: readonly Record<string, unknown>[]): EmfLine[] =>
  records.filter((record): record is EmfLine => typeof record._aws === 'object' && record._aws !== null);

const values = (value: unknown): number[] =>
  Array.isArray(value) ? value.map(Number) : typeof value === 'number' ? [value] : [];

/** Every value of `metric` in the lines whose dimensions include `where`, in line order. */
export const metricValues = (
  lines: readonly EmfLine[],
  metric: string,
  where: Readonly<Record<string, string>> = {},
): number[] =>
  lines
    .filter((line) =>
      line._aws.CloudWatchMetrics.some(({ Metrics }) => Metrics.some(({ Name }) => Name === metric)),
    )
    .filter((line) => Object.entries(where).every(([name, value]) => line[name] === value))
    .flatMap((line) => values(line[metric]));

/** The sum of `metric` over the lines whose dimensions include `where`. */
export const metricSum = (
  lines: readonly EmfLine[],
  metric: string,
  where: Readonly<Record<string, string>> = {},
): number => metricValues(lines, metric, where).reduce((sum, value) => sum + value, 0);
