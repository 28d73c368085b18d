import { recordCaptured } from './canary.ts';
import { type EmfLine, emfLines } from './emf.ts';

/** A chunk made only of JSON objects, one per line: what the Powertools logger writes. */
const logLines = (chunk: string): string[] | undefined => {
  const lines = chunk.split('\n').filter(Boolean);
  if (lines.length === 0) return undefined;
  for (const line of lines) {
    if (!line.startsWith('{')) return undefined;
    try {
      JSON.parse(line);
    } catch {
      return undefined;
    }
  }
  return lines;
};

/**
 * Runs `fn` while collecting every line the process writes to stdout and stderr; `records` are the
 * JSON log lines the Powertools logger writes as in Lambda, `metrics` the metric lines Powertools
 * Metrics writes. Log lines are kept out of the test
 * output; anything else is passed through as well, since `node --test` reports each test's result over
 * the same stdout, and swallowing it would lose results.
 */
export const captureLogs = async <T>(
  fn: () => Promise<T>,
): Promise<{ result: T; lines: string[]; records: Record<string, unknown>[]; metrics: EmfLine[] }> => {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, index) => {
    const original = originals[index] as typeof stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      // Under `node --test` a test file reports to the runner in binary frames on stdout: let them
      // through, or the runner never hears of the tests that finish while logs are being captured.
      if (typeof chunk !== 'string') return original(chunk, ...rest);
      const logged = logLines(chunk);
      if (logged === undefined) {
        lines.push(...chunk.split('\n').filter(Boolean));
        return original(chunk, ...rest);
      }
      lines.push(...logged);
      return true;
    }) as typeof stream.write;
  });
  try {
    const result = await fn();
    const json = lines.flatMap((line) => {
      if (logLines(line) === undefined) return [];
      return [JSON.parse(line) as Record<string, unknown>];
    });
    // The handlers' metrics (embedded metric format) are JSON lines too: apart from the log records.
    const metrics = emfLines(json);
    const records = json.filter((record) => !metrics.includes(record as EmfLine));
    return { result, lines, records, metrics };
  } finally {
    streams.forEach((stream, index) => {
      stream.write = originals[index] as typeof stream.write;
    });
    recordCaptured(lines);
  }
};
