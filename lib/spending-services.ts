/**
 * A request's spending services, part of lib/services.ts: the budget ledger, the scopes the caller's
 * spending must fit in, the caller's units of work, and the spender that reserves and settles.
 */
import { ALERT_TIMEOUT_MS, type BudgetAlert, sendBudgetAlert } from './alerts';
import { type Budget, type BudgetScope, createBudget } from './budget';
import type { DescribeScope } from './budget/refusal';
import { budgetScopesOf } from './budget/scopes';
import type { Capability } from './capabilities';
import { type ConnectionPool, invocationPool } from './connections';
import type { Logger } from './log';
import { usdToNanos } from './pricing';
import { longestGenerationMs } from './providers/timeouts';
import type { RequestScope } from './request-scope';
import { createSpender, type Spender } from './spend';
import { takeUnits } from './unit-limit';

/** Which ledger a request spends through, and what its calls may use (their timeouts size the lease). */
export interface SpendOptions {
  /** Tests keep their own gateway-wide ledger. @default 'global' */
  globalScope?: string;
  /** The capabilities the request's generation calls. @default ['text'] */
  uses?: readonly Capability[];
  /** Units of work the request starts (lib/unit-limit.ts), taken from the key's per-minute units. */
  units?: number;
}

export interface SpendingServices {
  budget(options?: SpendOptions): Budget;
  /** The budgets the caller's spending must fit in (the gateway's, then the key's) and how to name them. */
  budgetScopes(globalScope?: string): { scopes: BudgetScope[]; describe: DescribeScope };
  spend(options?: SpendOptions): Spender;
  /** Takes `units` from the caller's units per minute; sets `x-ratelimit-*-units`. */
  units(units: number): Promise<void>;
}

export function spendingServices(scope: RequestScope): SpendingServices {
  const { env, deps, log } = scope;
  // A reservation outlives its call, then a margin; a stream renews it while it runs (lib/spend.ts).
  const leaseMs = (options: SpendOptions) =>
    longestGenerationMs(env, options.uses) + env.BUDGET_LEASE_MARGIN_SECONDS * 1000;
  const budget = (options: SpendOptions = {}) =>
    createBudget(
      { redis: deps.redis, now: deps.now, newId: deps.newId },
      {
        timeZone: env.BUDGET_TIMEZONE,
        leaseMs: leaseMs(options),
        ...(options.globalScope ? { globalScope: options.globalScope } : {}),
      },
    );
  const budgetScopes = (globalScope = 'global') => budgetScopesOf(env, scope.principal(), globalScope);
  const units = async (n: number) => {
    const { redis, now } = deps;
    const taken = await takeUnits({ redis, now, log }, scope.principal(), n);
    if (!taken) return;
    scope.header('x-ratelimit-limit-units', String(taken.limit));
    scope.header('x-ratelimit-remaining-units', String(taken.remaining));
  };
  const spend = (options: SpendOptions = {}) => {
    const { scopes, describe } = budgetScopes(options.globalScope);
    return createSpender(
      {
        budget: budget(options),
        now: deps.now,
        defer: scope.defer,
        log,
        alert: budgetAlerts(log, deps.connections, env.ALERT_WEBHOOK_URL),
        settles: {
          batch: deps.settleBatch,
          holdMs: env.BUDGET_SETTLE_HOLD_MS,
          openMs: leaseMs(options),
        },
      },
      {
        scopes,
        limitNanos: usdToNanos(env.OPENAI_DAILY_BUDGET_USD),
        alertThresholdNanos: usdToNanos(env.OPENAI_ALERT_THRESHOLD_USD),
        describe,
        ...(options.units ? { gate: () => units(options.units ?? 0) } : {}),
      },
    );
  };
  return { budget, budgetScopes, spend, units };
}

/**
 * Sends a budget alert through the pool of the invocation sending it: a settle, and its alert, may be
 * written by another request than the one that spent (lib/settle-batch.ts). Built at module level: held
 * with its settle past the request's end, a closure made inside `spendingServices` would keep the
 * request's whole scope alive with it.
 */
function budgetAlerts(
  log: Logger,
  connections: ConnectionPool,
  webhookUrl: string | undefined,
): (alert: BudgetAlert) => Promise<void> {
  const webhook = webhookUrl ? { webhookUrl } : {};
  return (alert) =>
    sendBudgetAlert(
      { log, fetch: (invocationPool() ?? connections).fetch(ALERT_TIMEOUT_MS), ...webhook },
      alert,
    );
}
