import type { Redis } from '@upstash/redis/cloudflare';
import { type BudgetOptions, createBudget, type Reservation, type ReserveResult } from '../../lib/budget';
import { totalsKey } from '../../lib/budget/keys';
import { countingClient } from './redis';

/**
 * A budget on its own scopes (the day keys are shared by every test file, so each test names its own),
 * over a client like createDeps builds, with a clock the test moves.
 */
export function budgetSetup(startMs: number, options: Partial<BudgetOptions> = {}) {
  const tag = crypto.randomUUID();
  const clock = { ms: startMs };
  const names = { globalScope: `global:${tag}`, keyScopePrefix: `key:${tag}:` };
  const { redis, requests } = countingClient();
  const budget = createBudget({ redis, now: () => clock.ms }, { ...names, ...options });
  const key = (id: string) => `${names.keyScopePrefix}${id}`;
  return { budget, redis, requests, clock, key, ...names };
}

/** The reservation of a reserve that must have fitted. */
export function held(result: ReserveResult): Reservation {
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result)}`);
  return result.reservation;
}

/** A scope's raw counters on `day`, as the scripts left them (null when never written). */
export const rawTotals = (redis: Redis, day: string, scope: string) =>
  redis.hmget<Record<string, number | null>>(totalsKey(day, scope), 'spent', 'reserved', 'calls');
