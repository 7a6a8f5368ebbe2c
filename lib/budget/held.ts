/**
 * Work under a budget reservation (lib/spend.ts): what it is told about the reservation it runs under,
 * the tiered worst cases it may reserve, and how its cost is read when it ends.
 */
import type { Nanos } from '../pricing';

export interface CostOf<T> {
  /** What a successful call cost, from its usage. */
  value: (value: T) => Nanos;
  /** What a failed call still cost (a repair that stayed invalid was billed twice), if anything. */
  error?: (err: unknown) => Nanos;
}

/** What `work` is told about the reservation it runs under. */
export interface Held {
  /** The cheaper tier was reserved (see TieredEstimate). */
  degraded: boolean;
  /**
   * Reserves `amount` more, for another attempt at a call whose last attempt the provider may have
   * billed (it timed out, dropped or sent an unreadable answer): that attempt is charged `amount`, its
   * worst case, and the next one needs room of its own. False (and nothing reserved) when it does not
   * fit: the call must then not be made again.
   */
  rebill: (amount: Nanos) => Promise<boolean>;
  /**
   * Charges `amount`, the worst case of an attempt the provider may have billed and the call ended on
   * (nothing more is reserved: the reservation covers it), on top of what the call's cost says.
   */
  charge: (amount: Nanos) => void;
  /**
   * Starts renewing the reservation's lease every third of it, for work that may outlive the lease (a
   * stream); returns the function that stops it. Renewal also stops once `work` settles, however it
   * ends, so no timer outlives the call.
   */
  keepAlive: () => () => void;
}

/** Worst cases of the same work on the configured model and on the cheaper one it may degrade to. */
export interface TieredEstimate {
  full: Nanos;
  degraded: Nanos;
}
