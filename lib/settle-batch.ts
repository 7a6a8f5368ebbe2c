/**
 * Budget settles amortised per isolate. Each proxied call ends with a settle (or a release): a Redis
 * round trip after the response, a subrequest's CPU and one of the invocation's six connections. While
 * other reservations of the isolate are still open, a settle waits, at most `holdMs`, for theirs: the
 * request that found no write due writes what gathered meanwhile, in its `waitUntil`, as one pipeline
 * (lib/store-batch.ts joins what one turn issues). The last open reservation to close writes at once,
 * everything held with it, so a lone call settles as soon as it did before.
 *
 * Holding a settle keeps its reservation's worst case on the ledger a little longer (an overrun, a
 * call that cost more than it reserved, shows late by as much). A write lost with an evicted isolate
 * leaves leases to expire, charged in full (lib/budget.ts). Only the writing request waits: in workerd a
 * request resumed by another's promise needs an event of its own (docs/operations.md#overload), so the
 * others hand over plain work and are done. Two things an invocation that dies can leave behind are
 * bounded: a write that was due and never came is taken over by the next settle, and a reservation
 * never closed stops counting as open once its lease is over.
 */

/** A settle or release with what follows it (its alerts); it handles its own failure, never rejects. */
export type SettleWork = () => Promise<void>;

/** One open reservation's place in the batch. */
export interface SettleTicket {
  /**
   * The reservation's work after its call, queued; returns the write to hand to `waitUntil` when this
   * request must run it (now, or after the hold), else nothing. Work closed twice is still written.
   */
  close(work: readonly SettleWork[], holdMs: number): Promise<void> | undefined;
}

export interface SettleBatch {
  /** A reservation was granted: settles wait for it to close, within their hold, for `openMs` at most. */
  open(openMs: number): SettleTicket;
  /** Reservations open, and settles held (for tests and logs). */
  readonly opened: number;
  readonly held: number;
}

/** How late a due write may be (a timer on a loaded isolate) before the next settle takes it over. */
export const OVERDUE_MS = 1000;

export function createSettleBatch(clock: {
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}): SettleBatch {
  /** Each open reservation, with when it stops counting (its lease is over by then). */
  const tickets = new Map<object, number>();
  let held: SettleWork[] = [];
  /** When the scheduled write is due; 0: none is. */
  let due = 0;

  // forEach, not for-of: every settle runs this over every open reservation, and for-of makes an
  // entry pair for each one.
  const openAt = (at: number) => {
    tickets.forEach((until, ticket) => {
      if (until <= at) tickets.delete(ticket);
    });
    return tickets.size;
  };

  const flush = async () => {
    const taken = held;
    held = [];
    due = 0;
    // Started in one turn: the store's batching sends their scripts as one pipeline. A work that
    // throws at once must not keep the others from starting.
    const writes = taken.map((work) => {
      try {
        return work().catch(() => undefined);
      } catch {
        return undefined;
      }
    });
    await Promise.all(writes);
  };

  return {
    open(openMs) {
      const ticket = {};
      tickets.set(ticket, clock.now() + openMs);
      return {
        close(work, holdMs) {
          const at = clock.now();
          tickets.delete(ticket);
          held.push(...work);
          if (held.length === 0) return undefined;
          if (openAt(at) === 0 || holdMs <= 0) return flush();
          if (due !== 0 && at <= due + OVERDUE_MS) return undefined;
          due = at + holdMs;
          return clock.sleep(holdMs).then(flush);
        },
      };
    },
    // biome-ignore lint/plugin: built once per isolate (newIsolateState in lib/deps.ts), not per request
    get opened() {
      return openAt(clock.now());
    },
    // biome-ignore lint/plugin: built once per isolate (newIsolateState in lib/deps.ts), not per request
    get held() {
      return held.length;
    },
  };
}
