/**
 * The local view of the functions' metrics: each CloudWatch embedded-metric-format line a handler
 * prints becomes one readable line, so `npm start` shows what a request counted without AWS. The
 * rolled-up lines (by service alone) repeat the detailed ones and are left out.
 */

interface EmfDocument {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly { readonly Metrics: readonly { Name: string; Unit: string }[] }[];
  };
  readonly [key: string]: unknown;
}

const parse = (line: string): EmfDocument | undefined => {
  if (!line.startsWith('{"_aws"')) return undefined;
  try {
    const document = JSON.parse(line) as EmfDocument;
    return Array.isArray(document._aws?.CloudWatchMetrics) ? document : undefined;
  } catch {
    return undefined;
  }
};

const format = (value: unknown, unit: string): string => {
  const values = Array.isArray(value) ? value.map(Number) : [Number(value)];
  if (unit === 'Milliseconds') return values.map((ms) => `${Math.round(ms * 10) / 10} ms`).join(', ');
  return String(values.reduce((sum, each) => sum + each, 0));
};

/** The summary of one EMF line; undefined for a line that is not one, or only rolls others up. */
export const summarize = (line: string): string | undefined => {
  const document = parse(line);
  if (document === undefined) return undefined;
  const metrics = document._aws.CloudWatchMetrics.flatMap(({ Metrics }) => Metrics);
  const counted = metrics.map(({ Name, Unit }) => `${Name} ${format(document[Name], Unit)}`).join(', ');
  const { trigger, route, workflowType, outcome, error, permanent, function_name: fn } = document;
  if (metrics.some(({ Name }) => Name === 'ColdStart')) return `[metrics] ${fn ?? 'function'}: ${counted}`;
  if (trigger === undefined) return undefined;
  if (route === undefined) return `[metrics] ${trigger}: ${counted}`;
  const what = outcome ?? `${error} (${permanent === 'true' ? 'permanent' : 'transient'})`;
  return `[metrics] ${trigger} ${route} ${workflowType} ${what}: ${counted}`;
};

/**
 * Takes the EMF lines out of what `stream` is written, and passes each summary to `show`. Everything
 * else goes through. Returns the function that puts the stream back.
 */
export const summarizeMetrics = (
  stream: NodeJS.WriteStream,
  show: (summary: string) => void,
): (() => void) => {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string' || !chunk.includes('"_aws"')) return original(chunk, ...rest);
    const kept = chunk.split('\n').filter((line) => {
      if (parse(line) === undefined) return true;
      const summary = summarize(line);
      if (summary !== undefined) show(summary);
      return false;
    });
    const text = kept.join('\n');
    return text === '' ? true : original(text, ...rest);
  }) as typeof stream.write;
  return () => {
    stream.write = original as typeof stream.write;
  };
};
