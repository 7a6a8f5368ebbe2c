/**
 * The soak's pass criteria from #18, as plain functions of what was counted: the only errors are shed
 * 503s (with `Retry-After`), at most 1 % of responses; p99 of the served (2xx) hits ≤ 3 s; the
 * workerd processes' resident memory grows ≤ 10 % in the second half of the run.
 */

export const MAX_SHED_SHARE = 0.01;
export const MAX_SERVED_P99_MS = 3_000;
export const MAX_SECOND_HALF_GROWTH = 0.1;

export type Outcome = 'served' | 'shed' | 'error';

/** A 2xx is served; a 503 that says when to come back is shed load; anything else is an error. */
export function classify(status: number, headers: Record<string, unknown>): Outcome {
  if (status >= 200 && status < 300) return 'served';
  const retryAfter = Object.keys(headers).some((name) => name.toLowerCase() === 'retry-after');
  return status === 503 && retryAfter ? 'shed' : 'error';
}

export interface SoakCounts {
  /** Every request that ended: responses of any status, connection errors and timeouts. */
  attempts: number;
  shed: number;
  /** Non-2xx answers that are not shed, connection errors and timeouts. */
  errors: number;
  servedP99Ms: number;
  /** Summed RSS of the workerd processes at the middle and at the end sample, in KiB. */
  workerdKib: { middle: number; end: number };
}

export interface SoakVerdict {
  ok: boolean;
  shedShare: number;
  /** (end − middle) / middle. */
  secondHalfGrowth: number;
  checks: { name: string; met: boolean; measured: string }[];
}

export function judgeSoak(c: SoakCounts): SoakVerdict {
  const shedShare = c.attempts > 0 ? c.shed / c.attempts : 0;
  const { middle, end } = c.workerdKib;
  const secondHalfGrowth = middle > 0 ? (end - middle) / middle : Number.POSITIVE_INFINITY;
  const pct = (n: number) => `${(n * 100).toFixed(2)} %`;
  const checks = [
    { name: 'no errors but shed 503s', met: c.errors === 0, measured: `${c.errors} other errors` },
    {
      name: `shed ≤ ${pct(MAX_SHED_SHARE)} of responses`,
      met: shedShare <= MAX_SHED_SHARE,
      measured: `${c.shed} of ${c.attempts} (${pct(shedShare)})`,
    },
    {
      name: `p99 of served hits ≤ ${MAX_SERVED_P99_MS} ms`,
      met: c.servedP99Ms <= MAX_SERVED_P99_MS,
      measured: `${c.servedP99Ms} ms`,
    },
    {
      name: `workerd RSS grows ≤ ${pct(MAX_SECOND_HALF_GROWTH)} in the second half`,
      met: secondHalfGrowth <= MAX_SECOND_HALF_GROWTH,
      measured: `${(middle / 1024).toFixed(1)} → ${(end / 1024).toFixed(1)} MiB (${pct(secondHalfGrowth)})`,
    },
  ];
  // A run that served nothing has no p99 to judge: it fails rather than passes on a 0.
  const served = c.attempts - c.shed - c.errors;
  return { ok: served > 0 && checks.every((check) => check.met), shedShare, secondHalfGrowth, checks };
}
