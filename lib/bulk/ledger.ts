/**
 * A bulk job's money: its worst case reserved at submission, held through the 24 h completion window and
 * collection, then settled to what the batch billed (or released when it billed nothing). lib/spend.ts
 * does the same for one call, but its reserve and settle live inside one `run`, while a job reserves in
 * a request and settles in a cron a day later; the refusal message and the alerts follow spend.ts.
 * Fails closed like the budget: without a reservation nothing is submitted.
 */
import type { BudgetAlert } from '../alerts';
import type { Budget, BudgetScope, Nanos, Reservation } from '../budget';
import { budgetRefusal, type DescribeScope } from '../budget/refusal';
import { settleWithAlerts } from '../budget/settle';
import type { Logger } from '../log';

/**
 * The Batch API's 24 h completion window plus two hours for the polls and collection after it. The
 * reservation weighs on the day it was made and, carried over, on the next; its lease ends at the latest
 * when that next day ends (lib/budget.ts), so a job submitted late in the evening may be charged in full
 * then, and its settle corrects the charge, exactly once, on the day it was charged.
 */
export const BULK_LEASE_MS = 26 * 3_600_000;

export interface LedgerDeps {
  budget: Pick<Budget, 'reserve' | 'settle' | 'release'>;
  now: () => number;
  log: Pick<Logger, 'warn' | 'error'>;
  alert: (alert: BudgetAlert) => Promise<void>;
}

export interface Thresholds {
  /** The gateway-wide alert level, then the whole budget (as spendFor passes them). */
  alertThresholdNanos: Nanos;
  limitNanos: Nanos;
}

/**
 * Holds `amount` on every scope for BULK_LEASE_MS.
 * @throws BudgetExceededError (429 budget_exceeded) naming the scope that cannot cover the job.
 */
export async function reserveJob(
  deps: Pick<LedgerDeps, 'budget' | 'now'>,
  scopes: BudgetScope[],
  amount: Nanos,
  describe: DescribeScope,
): Promise<Reservation> {
  const reserved = await deps.budget.reserve(scopes, amount, { leaseMs: BULK_LEASE_MS });
  if (reserved.ok) return reserved.reservation;
  throw budgetRefusal(reserved, amount, describe, deps.now(), {
    refused: 'this job',
    costs: 'this job may cost, at the batch price,',
  });
}

/**
 * Records what the job billed against its reservation (idempotent per reservation), sending the alerts
 * this settle crosses first; a job that billed nothing gives its reservation back.
 */
export async function settleJob(
  deps: LedgerDeps,
  thresholds: Thresholds,
  reservation: Reservation,
  actual: Nanos,
): Promise<void> {
  if (actual === 0) {
    await deps.budget.release(reservation);
    return;
  }
  await settleWithAlerts(deps, thresholds, reservation, actual);
}
