/**
 * Budget settles amortised per isolate. Each proxied call ends with a settle (or a release): a Redis
 * round trip after the response, a subrequest's CPU and one of the invocation's six connections. While
 * other reservations of the isolate are still open, a settle waits, at most `holdMs`, for theirs: the
 * request that found nothing waiting writes what gathered meanwhile, in its `waitUntil`, as one
 * pipeline (lib/store-batch.ts joins what one turn issues). The last reservation to close writes at
 * once, everything held with it, so a lone call settles as soon as it did before.
 *
 * Holding a settle keeps its reservation's worst case on the ledger a little longer: the safe
 * direction. A write lost with an evicted isolate leaves leases to expire, charged in full (lib/budget.ts).
 * Only the writing request waits: in workerd a request resumed by another's promise needs an event of
 * its own (docs/operations.md#overload), so the others hand over plain work and are done.
 */

/** A settle or release with what follows it (its alerts); it handles its own failure, never rejects. */
export type SettleWork = () => Promise<void>;

/** One open reservation's place in the batch. */
export interface SettleTicket {
  /**
   * The reservation's work after its call, queued; returns the write to hand to `waitUntil` when this
   * request must run it (now, or after the hold), else nothing. Only the first call counts.
   */
  close(work: readonly SettleWork[], holdMs: number): Promise<void> | undefined;
}

export interface SettleBatch {
  /** A reservation was granted: settles wait for it to close, within their hold. */
  open(): SettleTicket;
  /** Reservations open, and settles held (for tests and logs). */
  readonly opened: number;
  readonly held: number;
}

export function createSettleBatch(sleep: (ms: number) => Promise<void>): SettleBatch {
  let opened = 0;
  let held: SettleWork[] = [];
  let scheduled = false;

  const flush = async () => {
    const taken = held;
    held = [];
    scheduled = false;
    // Started in one turn: the store's batching sends their scripts as one pipeline.
    await Promise.all(taken.map((work) => work().catch(() => undefined)));
  };

  return {
    open() {
      opened += 1;
      let closed = false;
      return {
        close(work, holdMs) {
          if (closed) return undefined;
          closed = true;
          opened -= 1;
          held.push(...work);
          if (held.length === 0) return undefined;
          if (opened === 0 || holdMs <= 0) return flush();
          if (scheduled) return undefined;
          scheduled = true;
          return sleep(holdMs).then(flush);
        },
      };
    },
    get opened() {
      return opened;
    },
    get held() {
      return held.length;
    },
  };
}
