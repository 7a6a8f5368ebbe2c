/** The 429 a reservation that did not fit gets: which budget, the caller's own figures, when it resets. */
import type { Nanos, ReserveResult } from '../budget';
import { BudgetExceededError } from '../errors';
import { nanosToUsd } from '../pricing';

/**
 * How a refusal names a budget scope; `shown`: its figures are the caller's own (its key's budget, or
 * any scope for the admin). A client key never learns what the gateway or other keys spend.
 */
export type DescribeScope = (scope: string) => { name: string; shown: boolean };

/** The 429 for a reservation that did not fit, naming the scope, its figures if shown and when it resets. */
export function budgetRefusal(
  refused: Extract<ReserveResult, { ok: false }>,
  amount: Nanos,
  describe: DescribeScope,
  now: number,
  /** What was refused and how its worst case was priced: `this request` and `this call may cost`. */
  wording: { refused: string; costs: string } = { refused: 'this request', costs: 'this call may cost' },
): BudgetExceededError {
  const { name, shown } = describe(refused.scope);
  const figures = shown
    ? `$${usd(refused.spentNanos)} spent and $${usd(refused.reservedNanos)} reserved of ` +
      `$${usd(refused.limitNanos)}, `
    : '';
  return new BudgetExceededError({
    message:
      `The daily budget of ${name} cannot cover ${wording.refused}: ` +
      `${figures}${wording.costs} up to $${usd(amount)}. It resets at ${refused.resetsAt}.`,
    retryAfter: Math.max(1, Math.ceil((Date.parse(refused.resetsAt) - now) / 1000)),
  });
}

const usd = (nanos: Nanos) => nanosToUsd(nanos).toFixed(nanos < 10_000_000 ? 6 : 2);
