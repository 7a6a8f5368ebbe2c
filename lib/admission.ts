/**
 * Admission pacing: how an overloaded isolate lets new requests in. An isolate serves many requests at
 * once; started all at once, their Redis calls' answers wait behind one another in the event loop and
 * time out there, their work wasted. So while the calls queue for longer than a target
 * (lib/store-load.ts `queueingMs`), or a burst starts more requests at once than the isolate has lately
 * answered in a fifth of a second, new requests take a ticket and start in ticket order, each waiting on
 * a timer of its own before it does anything. One whose start is more than the longest wait away is
 * shed at once (`503 overloaded`), with nothing done.
 *
 * Tickets are let through two ways: one for each request answered (so the isolate is kept as busy as it
 * was, whatever its speed), and by the clock at a rate the queueing steers, 10 % lower every tenth of a
 * second the calls queue above the target and 10 % higher while they do not. The clock finds room the
 * answers cannot (requests that wait on OpenAI for seconds hold little of the isolate) and takes back a
 * ticket lost to a client that left. Nothing wakes one request from another: in workerd a request
 * resumed by another's promise still needs an event of its own, and one with no event pending is
 * cancelled as hung (docs/operations.md#overload). Time spent waiting for a start counts against no Redis
 * timeout, and a waiting request costs one timer.
 */

export interface AdmissionLimits {
  /** Queueing (ms) above which starts are paced. */
  targetMs: number;
  /** The longest a request waits for its start; one that would wait longer is shed. */
  maxWaitMs: number;
}

/** How long the request waited before it started; or that it is shed, and how long it would have waited. */
export type Admitted = { waitedMs: number } | { shedMs: number };

export interface AdmissionClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface Admission {
  /** Waits for the request's start; resolves at once unless the isolate is pacing. */
  enter(limits: AdmissionLimits, clock: AdmissionClock): Promise<Admitted>;
  /** A started request has been answered: it lets the next one in. */
  finished(now: number): void;
  /** The clock's rate (starts per second) while pacing, for tests; null when not pacing. */
  readonly rate: number | null;
}

const ADJUST_EVERY_MS = 100;
const SLOWER = 0.9;
const FASTER = 1.1;
/** The clock's slowest rate, per second: it always lets some work in. */
const MIN_RATE = 10;
/**
 * Starts in one window (BURST_WINDOW_MS) that count as a burst: at least this many, or two windows' worth
 * of the peak answer rate.
 */
const MIN_BURST = 64;
const BURST_WINDOW_MS = 100;
/** The answers per second assumed when estimating a wait, until the isolate has answered faster. */
const ASSUMED_RATE = (MIN_BURST * 1000) / BURST_WINDOW_MS;
/** A waiter checks its ticket at least this often (ms), in case its estimate was too long. */
const MAX_NAP_MS = 200;

/** The most events in one window of the last `windows`, per second. */
function createPeakMeter(windowMs = 500, windows = 10) {
  const counts: [number, number][] = []; // [window number, events], newest last
  return {
    count(now: number) {
      const w = Math.floor(now / windowMs);
      const last = counts.at(-1);
      if (last?.[0] === w) last[1] += 1;
      else counts.push([w, 1]);
      while ((counts[0] as [number, number])[0] <= w - windows) counts.shift();
    },
    perSecond(now: number) {
      const since = Math.floor(now / windowMs) - windows;
      let peak = 0;
      for (const [w, n] of counts) if (w > since) peak = Math.max(peak, n);
      return (peak * 1000) / windowMs;
    },
  };
}

export function createAdmission(queueingMs: (now: number) => number): Admission {
  let rate: number | null = null; // the clock's rate; null: not pacing
  let issued = 0; // tickets handed out
  let released = 0; // tickets let through (fractional: the clock lets them through bit by bit)
  let releasedAt = 0;
  let adjustedAt = Number.NEGATIVE_INFINITY;
  let draining = false;
  let burst = { window: 0, starts: 0 };
  const finishes = createPeakMeter();

  // This window's starts reach the burst limit: more at once than the isolate has lately answered.
  const inBurst = (now: number) =>
    burst.window === Math.floor(now / BURST_WINDOW_MS) &&
    burst.starts >= Math.max(MIN_BURST, (finishes.perSecond(now) * 2 * BURST_WINDOW_MS) / 1000);
  const countStart = (now: number) => {
    const window = Math.floor(now / BURST_WINDOW_MS);
    if (burst.window !== window) burst = { window, starts: 0 };
    burst.starts += 1;
  };
  const release = (now: number) => {
    if (rate !== null) released = Math.min(issued, released + (rate * Math.max(0, now - releasedAt)) / 1000);
    releasedAt = now;
  };

  const adjust = (now: number, targetMs: number) => {
    release(now);
    if (now - adjustedAt < ADJUST_EVERY_MS) return;
    adjustedAt = now;
    const queueing = queueingMs(now);
    if (rate === null) {
      draining = queueing > targetMs;
      if (draining) rate = MIN_RATE;
      return;
    }
    if (released >= issued && queueing <= targetMs / 2) {
      rate = null; // over: nobody waits and the calls have all but stopped queueing
      return;
    }
    draining = queueing > targetMs;
    // No faster than twice the answers: beyond that the clock lets through nothing they would not.
    const ceiling = Math.max(ASSUMED_RATE, 2 * finishes.perSecond(now));
    rate = Math.min(ceiling, Math.max(MIN_RATE, rate * (draining ? SLOWER : FASTER)));
  };

  return {
    async enter({ targetMs, maxWaitMs }, { now, sleep }) {
      const arrived = now();
      adjust(arrived, targetMs);
      if (rate === null && inBurst(arrived)) rate = MIN_RATE;
      if (rate === null) {
        countStart(arrived);
        return { waitedMs: 0 };
      }
      // Tickets come through as requests are answered and by the clock: a wait estimated on both.
      const answering = Math.max(finishes.perSecond(arrived), ASSUMED_RATE);
      const estimateMs = ((issued + 1 - released) * 1000) / (answering + rate);
      if (estimateMs > maxWaitMs) return { shedMs: estimateMs };
      const ticket = ++issued;
      for (;;) {
        const t = now();
        adjust(t, targetMs);
        if (rate === null || released >= ticket) {
          countStart(t);
          return { waitedMs: t - arrived };
        }
        const ahead = ticket - released;
        await sleep(Math.min(MAX_NAP_MS, Math.max(1, (ahead * 1000) / (answering + rate))));
      }
    },
    finished(now) {
      finishes.count(now);
      // While the calls queue above the target, nine in for ten out, so the requests under way drain.
      if (rate !== null) released = Math.min(issued, released + (draining ? SLOWER : 1));
    },
    get rate() {
      return rate;
    },
  };
}
