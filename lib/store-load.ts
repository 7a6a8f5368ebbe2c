/**
 * How long the isolate's Redis calls are taking: a moving average of their durations, fading with time
 * when no call ends. Under overload the calls slow down before they time out, their work wasted; once
 * the average passes OVERLOAD_LATENCY_MS the request shell sheds new requests (lib/app.ts), at once and
 * with no Redis call, until it has faded below. Nothing waits here: a line of calls capped per isolate
 * served a third of the hits under the soak (each call's time in flight includes the loop's own lag),
 * and waiters that poll cost more CPU than an overloaded isolate has (docs/operations.md#overload).
 */

export interface StoreLoad {
  /** Runs `work` (one Redis REST call) and counts how long it took. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** The average duration of recent calls, faded by the time since the last one ended. */
  latencyMs(now: number): number;
}

/** Each call's weight in the average. */
const WEIGHT = 0.2;

/**
 * @param halfLifeMs how fast the average fades while no call ends, so shedding (which stops the calls
 *   that would say the load has passed) ends on its own.
 */
export function createStoreLoad(now: () => number = Date.now, halfLifeMs = 1000): StoreLoad {
  let average = 0;
  let at = now();
  const faded = (t: number) => average * 0.5 ** (Math.max(0, t - at) / halfLifeMs);
  return {
    async run(work) {
      const started = now();
      try {
        return await work();
      } finally {
        const ended = now();
        average = (1 - WEIGHT) * average + WEIGHT * (ended - started);
        at = ended;
      }
    },
    latencyMs: faded,
  };
}
