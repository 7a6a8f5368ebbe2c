/**
 * Calendar days in an IANA time zone, for the budget: which day an instant belongs to and when the
 * next one starts. Pure functions over `Intl.DateTimeFormat`, so they agree with the zone database
 * workerd ships, DST included.
 */

/** A budget day: its local calendar date and the instant the next one starts. */
export interface BudgetDay {
  /** Local calendar date, `YYYY-MM-DD`. */
  day: string;
  /** ISO instant (UTC) of the next local midnight: when this day's budget stops applying. */
  resetsAt: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Whether `day` is a real calendar date written `YYYY-MM-DD`. */
export function isDay(day: string): boolean {
  const match = DAY.exec(day);
  if (!match) return false;
  const at = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(at).toISOString().slice(0, 10) === day;
}

/** The calendar date `delta` days after `day` (`shiftDay('2026-03-01', -1)` → `'2026-02-28'`). */
export function shiftDay(day: string, delta: number): string {
  const key = `${day}|${delta}`;
  let shifted = shifts.get(key);
  if (shifted === undefined) {
    if (!isDay(day)) throw new RangeError(`not a YYYY-MM-DD day: ${day}`);
    shifted = new Date(Date.parse(`${day}T00:00:00Z`) + delta * DAY_MS).toISOString().slice(0, 10);
    if (shifts.size >= 64) shifts.clear();
    shifts.set(key, shifted);
  }
  return shifted;
}

// Every reservation and settle shifts the same day or two: remembered, as date parsing and printing
// was 1.6 % of a proxied call's CPU in a profile.
const shifts = new Map<string, string>();

/**
 * The days a settle's spend may land on, for a reservation made on `made` and settled on `today`: the
 * day it was made, the day after (where an expired lease carried over midnight was charged), and the
 * settle's own day, the last. One day when both are the same; `today` is never before `made`.
 */
export function landingDays(made: string, today: string): string[] {
  if (today <= made) return [made];
  const after = shiftDay(made, 1);
  return today === after ? [made, after] : [made, after, today];
}

/** Calendar days in one time zone. */
export interface DayClock {
  /** The budget day `nowMs` (epoch ms) falls in. */
  at(nowMs: number): BudgetDay;
  /** The first instant (epoch ms) of local day `day`: its midnight, or the DST jump that skipped it. */
  startOf(day: string): number;
}

/**
 * Builds the calendar of `timeZone`. Build it once and reuse it: creating the formatter is the
 * expensive part.
 * @throws RangeError for a time zone the runtime does not know.
 */
export function createDayClock(timeZone: string): DayClock {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });

  /** The local wall-clock time at `instant`, written as if it were UTC (ms, whole seconds). */
  function wallMs(instant: number): number {
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(instant)) p[part.type] = Number(part.value);
    return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  }
  const localDay = (instant: number) => new Date(wallMs(instant)).toISOString().slice(0, 10);

  // Days' starts already found: a reservation asks for three (today's, tomorrow's, the day after's).
  const starts = new Map<string, number>();
  function startOf(day: string): number {
    let start = starts.get(day);
    if (start === undefined) {
      start = findStart(day);
      if (starts.size >= 64) starts.clear();
      starts.set(day, start);
    }
    return start;
  }

  function findStart(day: string): number {
    if (!isDay(day)) throw new RangeError(`not a YYYY-MM-DD day: ${day}`);
    const midnight = Date.parse(`${day}T00:00:00Z`);
    // Two rounds of "wall time minus the offset in force" land on local midnight when it exists.
    const first = midnight - (wallMs(midnight) - midnight);
    const second = midnight - (wallMs(first) - first);
    const exact = [first, second].filter((t) => wallMs(t) === midnight).sort((a, b) => a - b);
    if (exact[0] !== undefined) return exact[0];
    // Midnight was skipped by a DST jump (e.g. America/Santiago): the day starts at the jump, found
    // by bisection between an instant still on the day before and one already on `day`.
    let [lo, hi] = [Math.min(first, second) - DAY_MS / 4, Math.max(first, second) + DAY_MS / 4];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (localDay(mid) < day) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  // The day last asked for and the instants it spans: nearly every call falls in it, and answering
  // from it spares formatToParts (a fifth of a proxied call's CPU before this).
  let current: { from: number; until: number; day: BudgetDay } | undefined;
  return {
    at(nowMs) {
      if (!Number.isFinite(nowMs)) throw new RangeError(`not an instant: ${nowMs}`);
      if (current && nowMs >= current.from && nowMs < current.until) return current.day;
      const day = localDay(nowMs);
      const until = startOf(shiftDay(day, 1));
      const budgetDay = { day, resetsAt: new Date(until).toISOString() };
      current = { from: startOf(day), until, day: budgetDay };
      return budgetDay;
    },
    startOf,
  };
}

/** One clock per time zone for the isolate's life: creating the formatter is the expensive part. */
const clocks = new Map<string, DayClock>();

/** `createDayClock(timeZone)`, built once per time zone and shared. */
export function dayClockOf(timeZone: string): DayClock {
  let clock = clocks.get(timeZone);
  if (!clock) {
    clock = createDayClock(timeZone);
    clocks.set(timeZone, clock);
  }
  return clock;
}

/** The budget day of `nowMs` in `timeZone`; see createDayClock to compute many. */
export function budgetDay(nowMs: number, timeZone: string): BudgetDay {
  return dayClockOf(timeZone).at(nowMs);
}
