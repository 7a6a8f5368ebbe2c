/**
 * How long the isolate's Redis calls are taking, and how much of that is queueing: a moving average of
 * their durations (fading with time when no call ends) less the shortest call of the last few seconds,
 * which is what the store and the network take on their own. Under overload the calls slow down, as
 * their answers wait behind the isolate's other work, and then time out, their work wasted; the queueing
 * part is what lib/admission.ts paces new requests on. A store that is slow on its own raises the
 * shortest call too, so it is not taken for overload.
 */

export interface StoreLoad {
  /** Runs `work` (one Redis REST call) and counts how long it took. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** The average duration of recent calls, faded by the time since the last one ended. */
  latencyMs(now: number): number;
  /** The average less the shortest recent call: how long calls wait in the isolate (never below 0). */
  queueingMs(now: number): number;
}

/** Each call's weight in the average. */
const WEIGHT = 0.2;
/** The shortest call is kept per bucket of this many ms, over the last BUCKETS of them. */
const BUCKET_MS = 2000;
const BUCKETS = 5;

/**
 * @param halfLifeMs how fast the average fades while no call ends, so pacing (which holds back the calls
 *   that would say the load has passed) ends on its own.
 */
export function createStoreLoad(now: () => number = Date.now, halfLifeMs = 1000): StoreLoad {
  let average = 0;
  let at = now();
  // The shortest call per bucket, newest last: [bucket number, ms].
  const shortest: [number, number][] = [];
  const faded = (t: number) => average * 0.5 ** (Math.max(0, t - at) / halfLifeMs);
  const record = (ended: number, ms: number, ok: boolean) => {
    average = (1 - WEIGHT) * average + WEIGHT * ms;
    at = ended;
    // A call that failed fast (a refused connection) says nothing of how long the store takes.
    if (!ok) return;
    const bucket = Math.floor(ended / BUCKET_MS);
    const last = shortest.at(-1);
    if (last?.[0] === bucket) last[1] = Math.min(last[1], ms);
    else shortest.push([bucket, ms]);
    while (shortest.length && (shortest[0] as [number, number])[0] <= bucket - BUCKETS) shortest.shift();
  };
  const baseline = (t: number) => {
    const since = Math.floor(t / BUCKET_MS) - BUCKETS;
    let min = Number.POSITIVE_INFINITY;
    for (const [bucket, ms] of shortest) if (bucket > since) min = Math.min(min, ms);
    return Number.isFinite(min) ? min : 0;
  };
  return {
    async run(work) {
      const started = now();
      let ok = false;
      try {
        const result = await work();
        ok = true;
        return result;
      } finally {
        const ended = now();
        record(ended, ended - started, ok);
      }
    },
    latencyMs: faded,
    queueingMs: (t) => Math.max(0, faded(t) - baseline(t)),
  };
}
