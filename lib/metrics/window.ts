/**
 * Which hashes a metrics window reads. Every request's increments land in the hash of its minute and
 * in the hash of its hour (one script, so the hour always equals the sum of its minutes). A window of
 * up to HOURLY_ABOVE minutes reads its minutes, one bucket each. A longer one reads one bucket per
 * hour it touches: a whole hour from the hour's hash; a partial hour (the window's first and last)
 * from its minutes when it covers at most half the hour, else from the hour's hash minus the minutes
 * outside the window. Either way the figures are exactly the sum of the window's minutes, and a
 * 24 h window reads at most 30 + 30 + 23 = 83 hashes.
 */

/** Windows longer than this (in minutes) are read in hourly buckets. */
export const HOURLY_ABOVE = 60;

/** A hash to read: a minute's or an hour's, by its index since the epoch. */
export interface Source {
  unit: 'm' | 'h';
  index: number;
}

/** One bucket of a window: the sum of `plus` minus the sum of `minus`. */
export interface PlannedBucket {
  /** The bucket's first minute (minutes since the epoch). */
  minute: number;
  /** How many minutes it covers. */
  minutes: number;
  plus: Source[];
  minus: Source[];
}

const minutesOf = (from: number, to: number): Source[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => ({ unit: 'm' as const, index: from + i }));

/** The buckets of the `minutes` minutes ending with minute `last` (included), oldest first. */
export function planWindow(last: number, minutes: number): PlannedBucket[] {
  const first = last - minutes + 1;
  if (minutes <= HOURLY_ABOVE) {
    return minutesOf(first, last).map((m) => ({ minute: m.index, minutes: 1, plus: [m], minus: [] }));
  }
  const out: PlannedBucket[] = [];
  for (let hour = Math.floor(first / 60); hour * 60 <= last; hour++) {
    const start = Math.max(first, hour * 60);
    const end = Math.min(last, hour * 60 + 59);
    const covered = end - start + 1;
    const whole: Source = { unit: 'h', index: hour };
    const bucket = { minute: start, minutes: covered };
    if (covered === 60) out.push({ ...bucket, plus: [whole], minus: [] });
    else if (covered <= 30) out.push({ ...bucket, plus: minutesOf(start, end), minus: [] });
    else {
      const outside = [...minutesOf(hour * 60, start - 1), ...minutesOf(end + 1, hour * 60 + 59)];
      out.push({ ...bucket, plus: [whole], minus: outside });
    }
  }
  return out;
}

/** Adds (sign 1) or subtracts (-1) one hash's counters into `into`. */
export function accumulate(into: Record<string, number>, hash: Record<string, number>, sign: 1 | -1): void {
  for (const [name, value] of Object.entries(hash)) into[name] = (into[name] ?? 0) + sign * value;
}

/**
 * Drops fields that came to zero, and clamps negative ones to zero: an hour hash can hold less than
 * its minutes only for hours written before hourly rollups existed (the first day after the upgrade).
 */
export function settled(fields: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(fields)) if (value > 0) out[name] = value;
  return out;
}
