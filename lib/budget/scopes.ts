/** The budgets a principal's spending must fit in, and how a refusal names them. */
import type { BudgetScope } from '../budget';
import type { Env } from '../env';
import { usdToNanos } from '../pricing';
import type { Principal } from '../principal';
import type { DescribeScope } from './refusal';

/** The admin key has no budget of its own: its scope only counts (totals), it never refuses. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * The gateway's budget, then the principal's own (a client key's: its daily budget or its share); a
 * refusal quotes a scope's figures only to whom they belong.
 */
export function budgetScopesOf(
  env: Pick<Env, 'OPENAI_DAILY_BUDGET_USD'>,
  principal: Principal,
  globalScope = 'global',
): { scopes: BudgetScope[]; describe: DescribeScope } {
  const keyLimit = principal.dailyBudgetUsd === null ? UNLIMITED : usdToNanos(principal.dailyBudgetUsd);
  const describe: DescribeScope = (name) =>
    name === globalScope
      ? { name: 'the gateway', shown: principal.kind === 'admin' }
      : { name: `key ${principal.id}`, shown: true };
  return {
    scopes: [
      { scope: globalScope, limit: usdToNanos(env.OPENAI_DAILY_BUDGET_USD) },
      { scope: `key:${principal.id}`, limit: keyLimit },
    ],
    describe,
  };
}
