/**
 * The daily spend budget, shared by every isolate through Redis, that concurrency cannot overspend.
 * Before a paid call the caller RESERVES its worst-case cost on every scope that applies (the
 * gateway-wide `global` scope, plus `key:<keyId>` when the key has its own budget); afterwards it
 * SETTLES the actual cost, or RELEASES the reservation if the call failed before costing anything.
 * A reservation fits only when `spent + reserved + amount <= limit` holds for every scope at once, so
 * concurrent callers can never be admitted past the limit together (reference peer-gateways.md §4).
 *
 * Each reserve, settle and release is one Lua script, so one Redis round trip. Money is integer
 * nanodollars. A day is a calendar day in `timeZone`; its keys carry the date, so a new day starts
 * clean whatever the cron does. Reservations hold a lease of `leaseMs`: if an isolate dies before
 * settling, the next reserve on that scope releases the expired lease. A settle that comes after its
 * lease was released (expired, or by `release`) still records the spend, exactly once: money spent is
 * always counted; only the reserved amount is never given back twice.
 *
 * Fails CLOSED: when Redis is unreachable or answers with an error, every method rejects with
 * `StoreUnavailableError` (503 `store_unavailable`), and no upstream call may be made without a
 * reservation. A failed settle or release is the caller's to log; the lease expiry is the safety net.
 *
 * @example
 * const budget = createBudget(deps, { timeZone: env.BUDGET_TIME_ZONE });
 * const scopes = [{ scope: 'global', limit: dailyNanos }, { scope: `key:${keyId}`, limit: keyNanos }];
 * const held = await budget.reserve(scopes, worstCaseNanos);
 * if (!held.ok) throw new BudgetExceededError({ message: `Daily budget of ${held.scope} exhausted.` });
 * try {
 *   const result = await call();
 *   c.executionCtx.waitUntil(budget.settle(held.reservation, costNanos(result), { alertThresholds }));
 *   return result;
 * } catch (error) {
 *   if (costNothing(error)) await budget.release(held.reservation);
 *   else await budget.settle(held.reservation, worstCaseNanos);
 *   throw error;
 * }
 */
import { type ArchiveContext, archiveDay, readHistory } from './budget/archive';
import { createDayClock, shiftDay } from './budget/day';
import { alertsKey, leasesKey, scopeIndexKey, totalsKey } from './budget/keys';
import type { Budget, BudgetDeps, BudgetOptions, ScopeState } from './budget/types';
import { StoreUnavailableError } from './errors';
import { BUDGET_READ, BUDGET_RELEASE, BUDGET_RESERVE, BUDGET_SETTLE } from './scripts/budget';
import { runScript } from './scripts/run';

export { type BudgetDay, budgetDay, createDayClock, shiftDay } from './budget/day';
export type * from './budget/types';

const DEFAULTS: BudgetOptions = {
  timeZone: 'UTC',
  leaseMs: 120_000,
  globalScope: 'global',
  keyScopePrefix: 'key:',
  retentionDays: 8,
};
const DAY_MS = 86_400_000;

function checkNanos(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer of nanodollars, got ${value}`);
  }
}

function checkScopes(scopes: readonly string[]): void {
  if (scopes.length === 0) throw new RangeError('a reservation needs at least one scope');
  if (new Set(scopes).size !== scopes.length) throw new RangeError(`scopes repeat: ${scopes.join(', ')}`);
  if (scopes.some((s) => typeof s !== 'string' || s === '')) throw new RangeError('a scope name is empty');
}

function checkLeaseMs(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1) {
    throw new RangeError(`leaseMs must be a positive integer, got ${leaseMs}`);
  }
}

/** Runs one store operation; any failure becomes StoreUnavailableError (the budget fails closed). */
async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new StoreUnavailableError({
      message: 'The budget store is unavailable. Retry later.',
      cause: error,
    });
  }
}

/**
 * Builds the budget over `deps.redis`. Cheap apart from the time zone's formatter.
 * @throws RangeError for options that cannot work (an unknown time zone, a lease below 1 ms, …).
 */
export function createBudget(deps: BudgetDeps, options: Partial<BudgetOptions> = {}): Budget {
  const set = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const { timeZone, leaseMs, globalScope, keyScopePrefix, retentionDays }: BudgetOptions = {
    ...DEFAULTS,
    ...set,
  };
  checkLeaseMs(leaseMs);
  if (!(retentionDays > 0)) throw new RangeError(`retentionDays must be positive, got ${retentionDays}`);
  if (!globalScope || !keyScopePrefix) throw new RangeError('globalScope and keyScopePrefix are required');
  const clock = createDayClock(timeZone);
  const { redis, now } = deps;
  const newId = deps.newId ?? ((prefix) => `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`);
  /** Seconds a day's keys live from `at`: until the day ends plus the retention. */
  const ttlSeconds = (day: string, at: number) =>
    Math.max(60, Math.ceil((clock.startOf(shiftDay(day, 1)) + retentionDays * DAY_MS - at) / 1000));
  const archive: ArchiveContext = { redis, now, globalScope, keyScopePrefix, ttlSeconds, guarded };

  return {
    async reserve(scopes, amount, { leaseMs: lease = leaseMs, fallback } = {}) {
      const names = scopes.map((s) => s.scope);
      checkScopes(names);
      for (const s of scopes) checkNanos(`limit of ${s.scope}`, s.limit);
      checkNanos('amount', amount);
      if (fallback) {
        checkNanos('fallback amount', fallback.amount);
        checkNanos('fallback threshold', fallback.above);
      }
      checkLeaseMs(lease);
      const at = now();
      const { day, resetsAt } = clock.at(at);
      const id = newId('bres');
      const keys = [scopeIndexKey(day), ...names.flatMap((s) => [totalsKey(day, s), leasesKey(day, s)])];
      const limits = scopes.flatMap((s) => [s.scope, s.limit]);
      const tiers = fallback ? [fallback.amount, fallback.above] : [-1, -1];
      const args = [at, at + lease, id, amount, ttlSeconds(day, at), ...tiers, ...limits];
      const [fits, position = 0, spentNanos = 0, reservedNanos = 0] = await guarded(() =>
        runScript<number[]>(redis, BUDGET_RESERVE, keys, args),
      );
      if (fits === 1) {
        const degraded = position === 2 && fallback !== undefined;
        const held = degraded ? fallback.amount : amount;
        return { ok: true, reservation: { id, day, amount: held, scopes: names }, degraded };
      }
      const { scope, limit: limitNanos } = scopes[position - 1] ?? { scope: '?', limit: 0 };
      return { ok: false, scope, spentNanos, reservedNanos, limitNanos, day, resetsAt };
    },

    async settle(reservation, actual, { alertThresholds = [] } = {}) {
      const { id, day, amount, scopes } = reservation;
      checkScopes(scopes);
      checkNanos('actual', actual);
      for (const t of alertThresholds) checkNanos('alert threshold', t);
      const at = now();
      const keys = [
        ...scopes.flatMap((s) => [totalsKey(day, s), leasesKey(day, s)]),
        alertsKey(day, globalScope),
      ];
      const alerting = scopes.indexOf(globalScope) + 1;
      const args = [id, amount, actual, ttlSeconds(day, at), at, alerting, ...alertThresholds];
      const [recorded = 0, spentNanos = 0, ...crossed] = await guarded(() =>
        runScript<number[]>(redis, BUDGET_SETTLE, keys, args),
      );
      const overrun = recorded > 0 && actual > amount;
      return { spentNanos, crossed, overrun, alreadySettled: recorded === 0 };
    },

    async release({ id, day, amount, scopes }) {
      checkScopes(scopes);
      const keys = scopes.flatMap((s) => [totalsKey(day, s), leasesKey(day, s)]);
      return (await guarded(() => runScript<number>(redis, BUDGET_RELEASE, keys, [id, amount]))) > 0;
    },

    async read(scopes, day) {
      const at = now();
      const which = day ?? clock.at(at).day;
      const resetsAt = new Date(clock.startOf(shiftDay(which, 1))).toISOString();
      const keys = scopes.flatMap((s) => [totalsKey(which, s), leasesKey(which, s), alertsKey(which, s)]);
      const flat = await guarded(() => runScript<number[]>(redis, BUDGET_READ, keys, [at]));
      let i = 0;
      const states = scopes.map((scope): ScopeState => {
        const [spentNanos = 0, reservedNanos = 0, calls = 0, sent = 0] = flat.slice(i, i + 4);
        const alertsSent = flat.slice(i + 4, i + 4 + sent).sort((a, b) => a - b);
        i += 4 + sent;
        return { scope, spentNanos, reservedNanos, calls, alertsSent };
      });
      return { day: which, resetsAt, scopes: states };
    },

    archiveDay: (day) => archiveDay(archive, day),
    history: (limit) => readHistory(archive, limit),
  };
}
