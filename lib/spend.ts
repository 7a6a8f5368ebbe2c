/**
 * Spending through the budget: reserve the worst case before any upstream call, then settle what the
 * call actually cost (or release when it cost nothing). The settle and its alerts run after the
 * response. Fails closed: without a reservation nothing is called.
 */
import type { BudgetAlert } from './alerts';
import type { Budget, BudgetScope, Nanos } from './budget';
import { BudgetExceededError } from './errors';
import type { Logger } from './log';
import { nanosToUsd } from './pricing';

export interface SpendDeps {
  budget: Budget;
  now: () => number;
  /** Work after the response; `ctx.waitUntil` in a Worker. */
  defer: (work: Promise<unknown>) => void;
  log: Pick<Logger, 'warn' | 'error'>;
  alert: (alert: BudgetAlert) => Promise<void>;
}

export interface SpendOptions {
  /** Every budget the call must fit in: the gateway's, and the key's. */
  scopes: BudgetScope[];
  /** The gateway-wide alert thresholds: the alert level, then the whole budget. */
  alertThresholdNanos: Nanos;
  limitNanos: Nanos;
  /** Names the scopes in a refusal's message. */
  describe: (scope: string) => string;
}

export interface CostOf<T> {
  /** What a successful call cost, from its usage. */
  value: (value: T) => Nanos;
  /** What a failed call still cost (a repair that stayed invalid was billed twice), if anything. */
  error?: (err: unknown) => Nanos;
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
  run<T>(
    estimate: Nanos | TieredEstimate,
    work: (tier: { degraded: boolean }) => Promise<T>,
    cost: CostOf<T>,
  ): Promise<T>;
}

export function createSpender(deps: SpendDeps, options: SpendOptions): Spender {
  const settle = (reservation: Parameters<Budget['settle']>[0], actual: Nanos) =>
    deps.defer(
      deps.budget
        .settle(reservation, actual, { alertThresholds: [options.alertThresholdNanos, options.limitNanos] })
        .then(async (result) => {
          if (result.overrun) {
            deps.log.error('spend exceeded its reservation', { reserved: reservation.amount, actual });
          }
          for (const threshold of result.crossed) {
            await deps.alert({
              day: reservation.day,
              level: threshold >= options.limitNanos ? 'limit' : 'threshold',
              thresholdUsd: nanosToUsd(threshold),
              spentUsd: nanosToUsd(result.spentNanos),
              limitUsd: nanosToUsd(options.limitNanos),
            });
          }
        })
        .catch((err: unknown) =>
          deps.log.error('budget settle failed; the lease will expire', { cause: err }),
        ),
    );

  return {
    async run(estimate, work, cost) {
      const tiered = typeof estimate === 'number' ? undefined : estimate;
      const full = tiered ? tiered.full : (estimate as Nanos);
      const reserved = await deps.budget.reserve(
        options.scopes,
        full,
        tiered ? { fallback: { amount: tiered.degraded, above: options.alertThresholdNanos } } : {},
      );
      if (!reserved.ok) {
        const retryAfter = Math.max(1, Math.ceil((Date.parse(reserved.resetsAt) - deps.now()) / 1000));
        throw new BudgetExceededError({
          message:
            `The daily budget of ${options.describe(reserved.scope)} cannot cover this request: ` +
            `$${usd(reserved.spentNanos)} spent and $${usd(reserved.reservedNanos)} reserved of ` +
            `$${usd(reserved.limitNanos)}, this call may cost up to $${usd(tiered ? tiered.degraded : full)}. ` +
            `It resets at ${reserved.resetsAt}.`,
          retryAfter,
        });
      }
      let value: Awaited<ReturnType<typeof work>>;
      try {
        value = await work({ degraded: reserved.degraded });
      } catch (err) {
        const billed = cost.error?.(err) ?? 0;
        if (billed > 0) settle(reserved.reservation, billed);
        else deps.defer(deps.budget.release(reserved.reservation).catch(() => undefined));
        throw err;
      }
      settle(reserved.reservation, cost.value(value));
      return value;
    },
  };
}

const usd = (nanos: Nanos) => nanosToUsd(nanos).toFixed(nanos < 10_000_000 ? 6 : 2);
