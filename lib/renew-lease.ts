/**
 * Keeps a lease in Redis alive while the work it guards runs: `renew` every third of `leaseMs` until
 * the returned function stops it, so a live holder never loses its lease however long the work takes,
 * and a dead one (an evicted isolate) loses it within one lease. One Redis round trip per renewal, on
 * a timer; a renewal waits for the one before it, so two are never in flight.
 *
 * A renewal that fails (Redis slow or down) goes to `failed` and is tried again at the next tick, while
 * the lease still has a third to run. One that finds the lease gone goes to `lost` and stops renewing.
 * (In a Worker the clock only moves across I/O, so a renewal may date itself a little early; its new
 * expiry still lies at least two thirds of a lease ahead.)
 */
export function renewLease(
  leaseMs: number,
  renew: () => Promise<boolean>,
  on: { failed: (cause: unknown) => void; lost: () => void },
): () => void {
  const everyMs = Math.max(1, Math.floor(leaseMs / 3));
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    const live = await renew().catch((cause: unknown) => {
      on.failed(cause);
      return true;
    });
    if (stopped) return;
    if (!live) {
      on.lost();
      return;
    }
    schedule();
  };
  const schedule = () => {
    if (!stopped) timer = setTimeout(tick, everyMs);
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
