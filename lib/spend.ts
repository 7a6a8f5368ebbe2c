/**
 * Spending through the budget: reserve the worst case before any upstream call, then settle what the
 * call actually cost (or release when it cost nothing; a call that timed out is charged its whole
 * reservation). Work that may outlive its lease (a stream) keeps it alive while it runs. The settle and
 * its alerts run after the response. Fails closed: without a reservation nothing is called.
 */
import type { BudgetAlert } from './alerts';
import type { Budget, BudgetScope, Nanos, Reservation, ReserveResult } from './budget';
import { holdAlongside } from './budget/alongside';
import type { CostOf, Held, TieredEstimate } from './budget/held';
import { keepLeaseAlive } from './budget/keep-alive';
import { budgetRefusal, type DescribeScope } from './budget/refusal';
import { settleWithAlerts } from './budget/settle';
import { mayBeBilled } from './errors';
import type { Logger } from './log';
import { nanosToUsd } from './pricing';
import type { SettleBatch, SettleWork } from './settle-batch';

export interface SpendDeps {
  budget: Budget;
  now: () => number;
  /** Work after the response; `ctx.waitUntil` in a Worker. */
  defer: (work: Promise<unknown>) => void;
  /** Bound to the request: its `spend settled` lines carry the request id sent upstream. */
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  alert: (alert: BudgetAlert) => Promise<void>;
  /**
   * The isolate's settle batch (lib/settle-batch.ts), how long a settle may wait in it for the
   * isolate's other open reservations, and how long a reservation counts as open at most (its lease);
   * without it each settle is deferred alone.
   */
  settles?: { batch: SettleBatch; holdMs: number; openMs: number };
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

export interface Spender {
  /**
   * Reserves the worst case, runs `work`, settles its cost. With a tiered estimate the cheaper tier is
   * reserved once the day's gateway spend has passed the alert threshold, or when the full one no
   * longer fits; `work` is told which tier it has.
   */
  run<T>(estimate: Nanos | TieredEstimate, work: (held: Held) => Promise<T>, cost: CostOf<T>): Promise<T>;
  /**
   * `run` in two steps: the reservation goes out now, in this tick (so it shares a round trip with
   * whatever else the caller issues in it), and the work runs once `run` is called on what it returns.
   * A start that is never run must be `cancel`led: its reservation is released.
   */
  start(estimate: Nanos | TieredEstimate): Started;
}

/** A reservation asked for, not yet awaited (`Spender.start`). */
export interface Started {
  run<T>(work: (held: Held) => Promise<T>, cost: CostOf<T>): Promise<T>;
  /** Releases the reservation, if one was granted (admission refused the request after all). */
  cancel(): void;
}

/**
 * A settle as the isolate's batch holds it, up to its hold and past its request's end. Built here, at
 * module level, from the few values it needs: a closure made inside `createSpender` would keep that
 * function's whole scope, and through `deps.defer` the request's context with everything the request
 * built, alive for as long as the batch holds it (promoted, on a loaded isolate, for a full collection
 * to reclaim).
 */
function settleWork(
  { budget, log, alert }: Pick<SpendDeps, 'budget' | 'log' | 'alert'>,
  { alertThresholdNanos, limitNanos }: Pick<SpendOptions, 'alertThresholdNanos' | 'limitNanos'>,
  reservation: Reservation,
  actual: Nanos,
): SettleWork {
  const deps = { budget, log, alert };
  const thresholds = { alertThresholdNanos, limitNanos };
  return () =>
    settleWithAlerts(deps, thresholds, reservation, actual).catch((err: unknown) =>
      log.error('budget settle failed; the lease will expire', { cause: err }),
    );
}

export function createSpender(deps: SpendDeps, options: SpendOptions): Spender {
  /**
   * `estimated`: some of `actual` is a worst case (an attempt the gateway could not see to its end),
   * not usage the provider reported.
   */
  const settle = (reservation: Reservation, actual: Nanos, estimated: boolean): SettleWork => {
    // One line per reservation, with the request id every upstream call of it sent: what the ledger
    // records can be matched to the provider's bill.
    deps.log.info('spend settled', {
      reserved_usd: nanosToUsd(reservation.amount),
      cost_usd: nanosToUsd(actual),
      estimated,
    });
    return settleWork(deps, options, reservation, actual);
  };

  /** A reservation's work after its call: into the isolate's batch when there is one. */
  const open = (): ((work: SettleWork[]) => void) => {
    const { settles } = deps;
    if (!settles)
      return (work) => {
        for (const w of work) deps.defer(w());
      };
    const ticket = settles.batch.open(settles.openMs);
    return (work) => {
      const write = ticket.close(work, settles.holdMs);
      if (write) deps.defer(write);
    };
  };

  /** Gives a granted reservation back, after the response. */
  const giveBack = (r: ReserveResult) => {
    if (r.ok) deps.defer(deps.budget.release(r.reservation).catch(() => undefined));
  };

  const start = (estimate: Nanos | TieredEstimate): Started => {
    const tiered = typeof estimate === 'number' ? undefined : estimate;
    const full = tiered ? tiered.full : (estimate as Nanos);
    const asked = holdAlongside(
      deps.budget.reserve(
        options.scopes,
        full,
        tiered ? { fallback: { amount: tiered.degraded, above: options.alertThresholdNanos } } : {},
      ),
      options.gate?.(),
      giveBack,
    );
    // Awaited by `run` or `cancel`; a refusal nobody ran is nobody's error.
    asked.catch(() => undefined);
    return {
      cancel: () => void asked.then(giveBack, () => undefined),
      run: (work, cost) => runReserved(asked, tiered ? tiered.degraded : full, work, cost),
    };
  };

  async function runReserved<T>(
    asked: Promise<ReserveResult>,
    smallest: Nanos,
    work: (held: Held) => Promise<T>,
    cost: CostOf<T>,
  ): Promise<T> {
    const reserved = await asked;
    if (!reserved.ok) {
      throw budgetRefusal(reserved, smallest, options.describe, deps.now());
    }
    // Closed once, in `finally`: a reservation left open would hold the isolate's settles to the end
    // of their hold.
    const close = open();
    const after: SettleWork[] = [];
    try {
      return await spendReserved(reserved, work, cost, after);
    } finally {
      close(after);
    }
  }

  /** `runReserved`'s call under a granted reservation; its settles are pushed onto `after`. */
  async function spendReserved<T>(
    reserved: Extract<ReserveResult, { ok: true }>,
    work: (held: Held) => Promise<T>,
    cost: CostOf<T>,
    after: SettleWork[],
  ): Promise<T> {
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
      for (const held of abandoned) after.push(settle(held, held.amount, true));
      // A call that timed out, dropped or was aborted is generally still run, and billed, by the
      // provider (reference: production-realities.md): never released. Charged what its work
      // said that attempt may cost, or, when it said nothing, its whole reservation.
      const said = (cost.error?.(err) ?? 0) + charged;
      const whole = mayBeBilled(err) && charged === 0;
      const billed = whole ? reserved.reservation.amount : said;
      if (billed > 0) after.push(settle(reservation, billed, whole || charged > 0));
      else {
        deps.log.info('spend settled', {
          reserved_usd: nanosToUsd(reservation.amount),
          cost_usd: 0,
        });
        after.push(() =>
          deps.budget.release(reservation).then(
            () => undefined,
            () => undefined,
          ),
        );
      }
      throw err;
    }
    stop();
    for (const held of abandoned) after.push(settle(held, held.amount, true));
    // A value without usage (a stream cut past its drain) is priced at the reservation.
    const actual = cost.value(value) + charged;
    after.push(settle(reservation, actual, charged > 0 || actual === reservation.amount));
    return value;
  }

  return { start, run: (estimate, work, cost) => start(estimate).run(work, cost) };
}
