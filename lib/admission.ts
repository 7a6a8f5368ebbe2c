/**
 * Admission pacing: how an overloaded isolate lets new requests in. An isolate serves many requests at
 * once; started all at once, their Redis calls' answers wait behind one another in the event loop and
 * time out there, their work wasted. So while the calls queue for longer than a target
 * (lib/store-load.ts `queueingMs`), or a burst adds more requests to those in flight within a tenth of a
 * second (starts less answers) than the isolate has lately answered in a fifth, new requests take a
 * ticket and start in ticket order, each waiting on a timer of its own before it does anything. One
 * still waiting when the longest wait is up is shed (`503 overloaded`), with nothing done, its ticket
 * passed over. None is shed on arrival: a shed client in a closed loop comes straight back, and answered
 * at once such clients spin, starving the rest.
 *
 * Tickets are let through two ways: one for each request answered (so the isolate is kept as busy as it
 * was, whatever its speed), and by the clock at a rate the queueing steers, 10 % lower every tenth of a
 * second the calls queue above the target and 10 % higher while they do not. The clock finds room the
 * answers cannot (requests that wait on OpenAI for seconds hold little of the isolate) and takes back a
 * ticket lost to a client that left. Nothing wakes one request from another: in workerd a request
 * resumed by another's promise still needs an event of its own, and one with no event pending is
 * cancelled as hung (docs/operations.md#overload). Time spent waiting for a start counts against no Redis
 * timeout. A waiter's timer is set for when its turn should come at the rate tickets now come through,
 * and fires at least every fifth of a second.
 */

export interface AdmissionLimits {
  /** Queueing (ms) above which starts are paced. */
  targetMs: number;
  /** The longest a request waits for its start; one still waiting then is shed. */
  maxWaitMs: number;
  /**
   * Requests added to those in flight within BURST_WINDOW_MS (starts less answers) that count as a burst
   * and begin pacing, at least (two windows' worth of the peak answer rate when that is more); 0: bursts
   * alone do not.
   */
  burst: number;
}

/** How long the request waited before it started; or that it is shed, and how much longer it would have waited. */
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
const BURST_WINDOW_MS = 100;
/**
 * The answers per second assumed when estimating a wait, until the isolate has answered any: a default
 * burst's worth (64) per burst window.
 */
const ASSUMED_RATE = 640;
/** A waiter checks its ticket at least this often (ms), in case its estimate was too long. */
const MAX_NAP_MS = 250;
/** …and at most this often, however close its turn. */
const MIN_NAP_MS = 2;

/** Events per second, counted per window: the most in one window of the last `windows`, or the last. */
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
      // Indexed, never destructured: a pattern `[w, n] = pair` runs the array iterator, which allocates.
      for (let i = 0; i < counts.length; i++) {
        const pair = counts[i] as [number, number];
        if (pair[0] > since) peak = Math.max(peak, pair[1]);
      }
      return (peak * 1000) / windowMs;
    },
    /** Events in the last whole window, per second (0 when it had none). */
    lastPerSecond(now: number) {
      const last = Math.floor(now / windowMs) - 1;
      for (let i = counts.length - 1; i >= 0; i--) {
        const pair = counts[i] as [number, number];
        if (pair[0] === last) return (pair[1] * 1000) / windowMs;
        if (pair[0] < last) break;
      }
      return 0;
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
  // This window's starts less its answers: how much the work in flight has grown in it. Starts alone
  // would take a steady closed loop for a burst (50 clients answered in 5 ms start 100 per window, never
  // more than 50 at once) and pace it for seconds; a count of requests in flight would drift up with
  // every request whose invocation was cancelled before it could say it had finished.
  let burst = { window: 0, grown: 0 };
  const burstWindow = (now: number) => {
    const window = Math.floor(now / BURST_WINDOW_MS);
    if (burst.window !== window) burst = { window, grown: 0 };
    return burst;
  };
  const finishes = createPeakMeter();

  // This window's growth reaches the burst limit: more at once than the isolate has lately answered.
  // The answer rate is read only once the growth reaches `least`: not on every request.
  const inBurst = (now: number, least: number) => {
    const { grown } = burstWindow(now);
    return least > 0 && grown >= least && grown >= (finishes.perSecond(now) * 2 * BURST_WINDOW_MS) / 1000;
  };
  const countStart = (now: number) => {
    burstWindow(now).grown += 1;
  };
  // How fast tickets come through now: the answers (nine in ten while draining) and the clock.
  const releaseRate = (now: number) => {
    const answers = finishes.lastPerSecond(now) || ASSUMED_RATE;
    return answers * (draining ? SLOWER : 1) + (rate ?? 0);
  };
  // Tickets whose waiter gave up (shed when its time was up), ascending: passed over, not let through.
  const abandoned: number[] = [];
  const skipAbandoned = () => {
    while (abandoned.length && released >= (abandoned[0] as number) && released < issued) {
      abandoned.shift();
      released = Math.min(issued, released + 1);
    }
    if (released >= issued) abandoned.length = 0;
  };
  const release = (now: number) => {
    if (rate !== null) released = Math.min(issued, released + (rate * Math.max(0, now - releasedAt)) / 1000);
    releasedAt = now;
    skipAbandoned();
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
    // No faster than twice the answers (or than the assumed rate, before there are any): a bound on how
    // far the rate has to come down once the calls queue again.
    const ceiling = Math.max(ASSUMED_RATE, 2 * finishes.perSecond(now));
    rate = Math.min(ceiling, Math.max(MIN_RATE, rate * (draining ? SLOWER : FASTER)));
  };

  return {
    async enter({ targetMs, maxWaitMs, burst: least }, { now, sleep }) {
      const arrived = now();
      adjust(arrived, targetMs);
      if (rate === null && inBurst(arrived, least)) rate = MIN_RATE;
      if (rate === null) {
        countStart(arrived);
        return { waitedMs: 0 };
      }
      // Every request waits its turn, however long the line: answered at once, a shed client in a closed
      // loop comes straight back, and shed requests spinning that way starve the served ones (1,500
      // connections on one isolate served nothing). It is shed once its longest wait is up.
      const ticket = ++issued;
      for (;;) {
        const t = now();
        adjust(t, targetMs);
        if (rate === null || released >= ticket) {
          countStart(t);
          return { waitedMs: t - arrived };
        }
        // How long until its turn, at the rate tickets now come through: the shed's Retry-After.
        const turnMs = ((ticket - released) * 1000) / releaseRate(t);
        const leftMs = maxWaitMs - (t - arrived);
        if (leftMs <= 0) {
          // Its ticket is passed over: the next release goes to the ticket after it.
          const at = abandoned.findIndex((n) => n > ticket);
          abandoned.splice(at < 0 ? abandoned.length : at, 0, ticket);
          return { shedMs: turnMs };
        }
        await sleep(Math.max(MIN_NAP_MS, Math.min(MAX_NAP_MS, turnMs, leftMs)));
      }
    },
    finished(now) {
      finishes.count(now);
      burstWindow(now).grown -= 1;
      // While the calls queue above the target, nine in for ten out, so the requests under way drain.
      if (rate !== null) released = Math.min(issued, released + (draining ? SLOWER : 1));
      skipAbandoned();
    },
    // biome-ignore lint/plugin: built once per isolate (newIsolateState in lib/deps.ts), not per request
    get rate() {
      return rate;
    },
  };
}
