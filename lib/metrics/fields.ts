/**
 * How metrics are stored: integer counters in one Redis hash per minute (and one running total for
 * Prometheus), each field naming its series. Fields are `kind|dimension…|measure`; dimensions come
 * from small sets (routes, providers, models, outcomes, variants, structured tasks), so a minute's hash
 * stays small and the retention bounds the rest. Kinds: `q`/`qh`/`qe` requests, `u`/`uh` upstream
 * calls, `mod` moderation verdicts, `t` structured tasks (lib/metrics/tasks.ts, no endpoint).
 */

/** Upper bounds (ms) of the latency histogram's buckets; the last one is open. */
export const LATENCY_BOUNDS_MS = [
  10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000,
] as const;

/** The histogram bucket of a duration: the first bound it does not exceed, else the open one. */
export function bucketOf(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
}

const SEP = '|';
/** Dimension values never contain the separator. */
export const clean = (value: string) => value.replaceAll(SEP, '/') || '-';

export const field = (...parts: (string | number)[]) => parts.map((p) => clean(String(p))).join(SEP);
/** `field(...series, measure)` for a series already built with `field`: its parts are not cleaned again. */
export const measureOf = (series: string, measure: string) => `${series}${SEP}${clean(measure)}`;
export const split = (name: string) => name.split(SEP);

/** Measures of an upstream call series `u|endpoint|capability|provider|model|outcome|variant`. */
export const UPSTREAM_MEASURES = [
  'n',
  'ms',
  'in',
  'cached',
  'out',
  'cost',
  'retries',
  'fallback',
  'repair',
] as const;
export type UpstreamMeasure = (typeof UPSTREAM_MEASURES)[number];
