/**
 * Spending through the budget: reserve the worst case before any upstream call, then settle what the
 * call actually cost (or release when it cost nothing; a call that timed out is charged its whole
 * reservation). Work that may outlive its lease (a stream) keeps it alive while it runs. The settle and
 * its alerts run after the response. Fails closed: without a reservation nothing is called.
 */
import type { BudgetAlert } from './alerts';
import type { Budget, BudgetScope, Nanos, Reservation } from './budget';
import { holdAlongside } from './budget/alongside';
import { keepLeaseAlive } from './budget/keep-alive';
import { budgetRefusal, type DescribeScope } from './budget/refusal';
import { settleWithAlerts } from './budget/settle';
import { mayBeBilled } from './errors';
import type { Logger } from './log';
import { nanosToUsd } from './pricing';

export interface SpendDeps {
  budget: Budget;
  now: () => number;
  /** Work after the response; `ctx.waitUntil` in a Worker. */
  defer: (work: Promise<unknown>) => void;
  /** Bound to the request: its `spend settled` lines carry the request id sent upstream. */
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  alert: (alert: BudgetAlert) => Promise<void>;
}

export interface SpendOptions {
  /** Every budget the call must fit in: the gateway's, and the key's. */
  scopes: BudgetScope[];
  /** The gateway-wide alert thresholds: the alert level, then the whole budget. */
  alertThresholdNanos: Nanos;
  limitNanos: Nanos;
  /** Names the scopes in a refusal's message, and says whose figures it may quote. */
  describe: DescribeScope;
  /**
   * A further admission the work needs (the key's units of work), run alongside the reservation so it
   * shares its round trip; when it throws, the reservation is released and its error is the refusal.
   */
  gate?: () => Promise<unknown>;
}

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

export interface Spender {
  /**
   * Reserves the worst case, runs `work`, settles its cost. With a tiered estimate the cheaper tier is
   * reserved once the day's gateway spend has passed the alert threshold, or when the full one no
   * longer fits; `work` is told which tier it has.
   */
  run<T>(estimate: Nanos | TieredEstimate, work: (held: Held) => Promise<T>, cost: CostOf<T>): Promise<T>;
}

export function createSpender(deps: SpendDeps, options: SpendOptions): Spender {
  /**
   * `estimated`: some of `actual` is a worst case (an attempt the gateway could not see to its end),
   * not usage the provider reported.
   */
  const settle = (reservation: Reservation, actual: Nanos, estimated: boolean) => {
    // One line per reservation, with the request id every upstream call of it sent: what the ledger
    // records can be matched to the provider's bill.
    deps.log.info('spend settled', {
      reserved_usd: nanosToUsd(reservation.amount),
      cost_usd: nanosToUsd(actual),
      estimated,
    });
    deps.defer(
      settleWithAlerts(deps, options, reservation, actual).catch((err: unknown) =>
        deps.log.error('budget settle failed; the lease will expire', { cause: err }),
      ),
    );
  };

  return {
    async run(estimate, work, cost) {
      const tiered = typeof estimate === 'number' ? undefined : estimate;
      const full = tiered ? tiered.full : (estimate as Nanos);
      const reserved = await holdAlongside(
        deps.budget.reserve(
          options.scopes,
          full,
          tiered ? { fallback: { amount: tiered.degraded, above: options.alertThresholdNanos } } : {},
        ),
        options.gate?.(),
        (r) => {
          if (r.ok) deps.defer(deps.budget.release(r.reservation).catch(() => undefined));
        },
      );
      if (!reserved.ok) {
        throw budgetRefusal(reserved, tiered ? tiered.degraded : full, options.describe, deps.now());
      }
      const { reservation } = reserved;
      let stop: () => void = () => undefined;
      const keepAlive = () => {
        stop();
        stop = keepLeaseAlive(deps.budget, reservation, deps.log);
        return stop;
      };
      // One reservation per attempt the provider may have billed without an answer: each is charged
      // in full, whatever the call's outcome.
      const abandoned: Reservation[] = [];
      const rebill = async (amount: Nanos) => {
        const more = await deps.budget.reserve(options.scopes, amount);
        if (more.ok) abandoned.push(more.reservation);
        return more.ok;
      };
      let charged = 0;
      const charge = (amount: Nanos) => {
        charged += amount;
      };
      let value: Awaited<ReturnType<typeof work>>;
      try {
        value = await work({ degraded: reserved.degraded, rebill, charge, keepAlive });
      } catch (err) {
        stop();
        for (const held of abandoned) settle(held, held.amount, true);
        // A call that timed out, dropped or was aborted is generally still run, and billed, by the
        // provider (reference: production-realities.md): never released. Charged what its work
        // said that attempt may cost, or, when it said nothing, its whole reservation.
        const said = (cost.error?.(err) ?? 0) + charged;
        const whole = mayBeBilled(err) && charged === 0;
        const billed = whole ? reserved.reservation.amount : said;
        if (billed > 0) settle(reserved.reservation, billed, whole || charged > 0);
        else {
          deps.log.info('spend settled', {
            reserved_usd: nanosToUsd(reserved.reservation.amount),
            cost_usd: 0,
          });
          deps.defer(deps.budget.release(reserved.reservation).catch(() => undefined));
        }
        throw err;
      }
      stop();
      for (const held of abandoned) settle(held, held.amount, true);
      // A value without usage (a stream cut past its drain) is priced at the reservation.
      const actual = cost.value(value) + charged;
      settle(reserved.reservation, actual, charged > 0 || actual === reserved.reservation.amount);
      return value;
    },
  };
}
