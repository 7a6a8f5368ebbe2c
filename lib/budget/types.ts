/** The budget's public types; lib/budget.ts re-exports them. */
import type { Redis } from '../store';

/** An amount of money in nanodollars (1e-9 USD), always a safe non-negative integer. */
export type Nanos = number;

/** One budget a reservation must fit in: a scope name and its daily limit. */
export interface BudgetScope {
  scope: string;
  limit: Nanos;
}

/** What reserve handed out. Pass it back to settle or release unchanged. */
export interface Reservation {
  id: string;
  /**
   * The budget day it was made on. Its lease is kept there; a reserve the next day counts it as carried
   * over, and its settle lands its spend on the day the settle runs.
   */
  day: string;
  amount: Nanos;
  scopes: string[];
}

export type ReserveResult =
  | {
      ok: true;
      reservation: Reservation;
      /** The fallback amount was reserved: spend had passed its threshold, or the amount did not fit. */
      degraded: boolean;
    }
  | {
      ok: false;
      /** The first scope (in the order given) the amount did not fit in. */
      scope: string;
      spentNanos: Nanos;
      reservedNanos: Nanos;
      limitNanos: Nanos;
      day: string;
      /** ISO instant of the next local midnight, when the scope's spend starts again from 0. */
      resetsAt: string;
    };

export interface ReserveOptions {
  /** Overrides the budget's lease for this reservation. */
  leaseMs?: number;
  /**
   * A cheaper way to do the same work: reserve `amount` instead once the first scope's spend has
   * reached `above`, or when the full amount does not fit.
   */
  fallback?: { amount: Nanos; above: Nanos };
}

export interface SettleResult {
  /** The budget day the settle ran on: where a live reservation's spend landed, and whose alerts fired. */
  day: string;
  /** That day's spend of the global scope after this settle (of the first scope if not global). */
  spentNanos: Nanos;
  /** The alert thresholds this settle crossed first, across all isolates; each fires once a day. */
  crossed: Nanos[];
  /** The actual cost exceeded the reservation. It was recorded anyway; log it. */
  overrun: boolean;
  /** The reservation had already been settled: nothing changed. */
  alreadySettled: boolean;
}

export interface ScopeState {
  scope: string;
  spentNanos: Nanos;
  /**
   * Held by live reservations: the day's, and those carried over from the day before (still open at its
   * midnight). Expired leases are left out even before they are swept.
   */
  reservedNanos: Nanos;
  calls: number;
  /** Alert thresholds sent for this scope on this day, ascending. */
  alertsSent: Nanos[];
}

export interface BudgetOptions {
  /** IANA time zone whose calendar days the budget follows. @default 'UTC' */
  timeZone: string;
  /**
   * How long a reservation holds its amount before it is charged as lost; a renew extends it. A lease
   * ends at the latest when the day after the one it was made on ends. @default 120_000
   */
  leaseMs: number;
  /** The gateway-wide scope: the one alerts fire for and the archive reports. @default 'global' */
  globalScope: string;
  /** Prefix of per-key scopes, which the archive reports by key id. @default 'key:' */
  keyScopePrefix: string;
  /** Days a day's working keys are kept after it ends, so the archive may run late. @default 8 */
  retentionDays: number;
}

export interface BudgetDeps {
  redis: Pick<Redis, 'evalsha' | 'eval' | 'sunion' | 'hset' | 'hgetall'>;
  /** Milliseconds since the epoch; decides the day and lease expiry. */
  now: () => number;
  /** A random id with a type prefix; reservation ids use `bres`. */
  newId?: (prefix: string) => string;
}

export interface Budget {
  /** The lease a reservation holds unless its reserve or renew says otherwise. */
  readonly leaseMs: number;
  /**
   * Holds `amount` on every scope if it fits in all of them, counting the live leases carried over from
   * yesterday against today's limit. Rejects when Redis is unavailable.
   */
  reserve(scopes: BudgetScope[], amount: Nanos, options?: ReserveOptions): Promise<ReserveResult>;
  /**
   * Extends a live reservation's lease to `leaseMs` from now on all its scopes, for a call that runs
   * longer than its lease (a stream). False, changing nothing, once the lease has ended (settled,
   * released, or expired: an expired lease already counts as spent). One round trip.
   */
  renew(reservation: Reservation, options?: { leaseMs?: number }): Promise<boolean>;
  /**
   * Records the actual cost on the day the settle runs (see SettleResult), freeing the lease on the day
   * it was made. Idempotent per reservation.
   */
  settle(
    reservation: Reservation,
    actual: Nanos,
    options?: { alertThresholds?: Nanos[] },
  ): Promise<SettleResult>;
  /** Gives the reservation back; false when nothing was held any more (settled, released, expired). */
  release(reservation: Reservation): Promise<boolean>;
  /** Each scope's totals on `day` (default: today), for `GET /v1/budget`. */
  read(scopes: string[], day?: string): Promise<{ day: string; resetsAt: string; scopes: ScopeState[] }>;
  /** For the cron: stores a finished day's totals in the history (idempotent); returns them. */
  archiveDay(day: string): Promise<HistoryDay>;
  /** The archived days, newest first. */
  history(limit?: number): Promise<HistoryDay[]>;
}

/** One archived day, in nanodollars (see nanosToUsd). */
export interface HistoryDay {
  day: string;
  /** Spend and calls of the gateway-wide scope. */
  spentNanos: number;
  calls: number;
  /** Per API key that reserved or spent that day, by key id (the scope name without its prefix). */
  keys: Record<string, { spentNanos: number; calls: number }>;
}
