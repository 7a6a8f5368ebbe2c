import { LATENCY_BOUNDS_MS } from './fields';

/** A latency histogram: one count per LATENCY_BOUNDS_MS bucket, plus the open one above the last bound. */
export type Histogram = number[];
/** A histogram with every bucket at zero. */
export const emptyHistogram = (): Histogram => new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);

/** The `p` quantile (0..1) of a histogram, interpolated within its bucket; null when empty. */
export function quantile(histogram: Histogram, p: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = p * total;
  let seen = 0;
  for (const [i, count] of histogram.entries()) {
    if (count > 0 && seen + count >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BOUNDS_MS[i - 1] as number);
      const upper = LATENCY_BOUNDS_MS[i];
      // The open bucket has no upper bound: report its lower one.
      if (upper === undefined) return lower;
      return Math.round(lower + (upper - lower) * ((rank - seen) / count));
    }
    seen += count;
  }
  return LATENCY_BOUNDS_MS.at(-1) as number;
}

/** The p50, p95 and p99 of a histogram; null when empty. */
export const percentiles = (h: Histogram) => ({
  p50: quantile(h, 0.5),
  p95: quantile(h, 0.95),
  p99: quantile(h, 0.99),
});
