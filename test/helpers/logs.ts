/**
 * Runs `fn` while collecting what the process writes to stdout and stderr: the Powertools logger
 * writes one JSON object per line there, as in Lambda.
 */
export const captureLogs = async <T>(
  fn: () => Promise<T>,
): Promise<{ result: T; lines: string[]; records: Record<string, unknown>[] }> => {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, index) => {
    const original = originals[index] as typeof stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      // Under `node --test` a test file reports to the runner in binary frames on stdout: let them
      // through, or the runner never hears of the tests that finish while logs are being captured.
      if (typeof chunk !== 'string') return original(chunk, ...rest);
      lines.push(...chunk.split('\n').filter(Boolean));
      return true;
    }) as typeof stream.write;
  });
  try {
    const result = await fn();
    const records = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    return { result, lines, records };
  } finally {
    streams.forEach((stream, index) => {
      stream.write = originals[index] as typeof stream.write;
    });
  }
};
