/** Summary statistics for noisy timings: medians and nearest-rank percentiles, never means. */

/** The p-th percentile (0–100) by the nearest-rank method; NaN for no samples. */
export const percentile = (samples: readonly number[], p: number): number => {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
};

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** `value / reference`, rounded to two decimals. */
export const ratio = (value: number, reference: number): number =>
  Math.round((value / reference) * 100) / 100;

/**
 * The items in a different order each round: each goes first in turn, and every other cycle runs
 * backwards, so no item always runs first, or always right after the same other one.
 */
export const rotate = <T>(items: readonly T[], round: number): T[] => {
  const shift = round % items.length;
  const rotated = [...items.slice(shift), ...items.slice(0, shift)];
  return Math.floor(round / items.length) % 2 === 0 ? rotated : rotated.reverse();
};
