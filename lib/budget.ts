/**
 * The daily spend budget, shared by every isolate through Redis, that concurrency cannot overspend.
 * Before a paid call the caller RESERVES its worst-case cost on every scope that applies (the
 * gateway-wide `global` scope, plus `key:<keyId>` when the key has its own budget); afterwards it
 * SETTLES the actual cost, or RELEASES the reservation if the call failed before costing anything.
 * A reservation fits only when `spent + reserved + amount <= limit` holds for every scope at once, so
 * concurrent callers can never be admitted past the limit together (reference peer-gateways.md §4).
 *
 * Each reserve, renew, settle, release and read is one Lua script, so one Redis round trip. Money is
 * integer nanodollars. A day is a calendar day in `timeZone`; its keys carry the date, so a new day
 * starts clean whatever the cron does. Reservations hold a lease of `leaseMs`, which a call that runs
 * longer (a stream) RENEWS while it runs. If an isolate dies before settling, the lease expires and the
 * next reserve on that scope charges it at its full amount (the provider still bills the work). A settle
 * that comes after its lease ended (expired, or by `release`) still records the spend, exactly once:
 * money spent is always counted; only the reserved amount is never given back twice.
 *
 * The day boundary (#14): a reservation stays in the keys of the day it was made on, and its lease ends
 * at the latest when the next day ends. A reserve counts yesterday's live leases against today's limit
 * too, so a call still open at midnight holds the new day's headroom until it settles; its settle frees
 * the lease where it was made and lands the spend on the day the call ended (the settle's day). An
 * expired lease is charged on the day it expired, and a late settle corrects that charge where it
 * landed. So every nanodollar a day is charged was counted by every reserve on that day while it was
 * open, and no calendar day can be billed past its limit (overruns of the estimate aside).
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
import { dayClockOf, landingDays, shiftDay } from './budget/day';
import { alertsKey, dayKeys, leasesKey, scopeIndexKey, totalsKey } from './budget/keys';
import { checkLeaseMs, checkNanos, checkScopes, DAY_MS, resolveOptions } from './budget/options';
import type { Budget, BudgetDeps, BudgetOptions, ScopeState } from './budget/types';
import { StoreUnavailableError } from './errors';
import { BUDGET_RESERVE, BUDGET_SETTLE } from './scripts/budget';
import { BUDGET_RELEASE, BUDGET_RENEW } from './scripts/budget-lease';
import { BUDGET_READ } from './scripts/budget-read';
import { runScript } from './scripts/run';

export { type BudgetDay, budgetDay, createDayClock, dayClockOf, shiftDay } from './budget/day';
export type * from './budget/types';

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
  const { timeZone, leaseMs, globalScope, keyScopePrefix, retentionDays } = resolveOptions(options);
  const clock = dayClockOf(timeZone);
  const { redis, now } = deps;
  const newId = deps.newId ?? ((prefix) => `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`);
  /** Seconds a day's keys live from `at`: until the day ends plus the retention. */
  const ttlSeconds = (day: string, at: number) =>
    Math.max(60, Math.ceil((clock.startOf(shiftDay(day, 1)) + retentionDays * DAY_MS - at) / 1000));
  const archive: ArchiveContext = { redis, now, globalScope, keyScopePrefix, ttlSeconds, guarded, clock };
  /** A lease made on `day` ends by the time the next day ends: only today's and yesterday's can be live. */
  const leaseEnd = (day: string, at: number, lease: number) =>
    Math.min(at + lease, clock.startOf(shiftDay(day, 2)) - 1);

  return {
    leaseMs,

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
      const before = shiftDay(day, -1);
      const keys = [scopeIndexKey(day), ...names.flatMap((s) => [...dayKeys(day, s), ...dayKeys(before, s)])];
      const limits = scopes.flatMap((s) => [s.scope, s.limit]);
      const tiers = fallback ? [fallback.amount, fallback.above] : [-1, -1];
      const expiry = leaseEnd(day, at, lease);
      const args = [at, expiry, id, amount, ttlSeconds(day, at), ...tiers, clock.startOf(day), ...limits];
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

    async renew({ id, day, amount, scopes }, { leaseMs: lease = leaseMs } = {}) {
      checkScopes(scopes);
      checkLeaseMs(lease);
      const at = now();
      const keys = scopes.map((s) => leasesKey(day, s));
      const args = [at, leaseEnd(day, at, lease), id, amount];
      return (await guarded(() => runScript<number>(redis, BUDGET_RENEW, keys, args))) > 0;
    },

    async settle(reservation, actual, { alertThresholds = [] } = {}) {
      const { id, day, amount, scopes } = reservation;
      checkScopes(scopes);
      checkNanos('actual', actual);
      for (const t of alertThresholds) checkNanos('alert threshold', t);
      const at = now();
      const days = landingDays(day, clock.at(at).day);
      const today = days.at(-1) ?? day;
      const keys = [
        scopeIndexKey(today),
        alertsKey(today, globalScope),
        ...scopes.flatMap((s) => [leasesKey(day, s), ...days.map((d) => totalsKey(d, s))]),
      ];
      const alerting = scopes.indexOf(globalScope) + 1;
      const args = [id, amount, actual, ttlSeconds(today, at), at, alerting, days.length];
      const [recorded = 0, spentNanos = 0, ...crossed] = await guarded(() =>
        runScript<number[]>(redis, BUDGET_SETTLE, keys, [...args, ...scopes, ...alertThresholds]),
      );
      const overrun = recorded > 0 && actual > amount;
      return { day: today, spentNanos, crossed, overrun, alreadySettled: recorded === 0 };
    },

    async release({ id, day, amount, scopes }) {
      checkScopes(scopes);
      const keys = scopes.flatMap((s) => dayKeys(day, s));
      return (await guarded(() => runScript<number>(redis, BUDGET_RELEASE, keys, [id, amount]))) > 0;
    },

    async read(scopes, day) {
      const at = now();
      const which = day ?? clock.at(at).day;
      const next = clock.startOf(shiftDay(which, 1));
      const before = shiftDay(which, -1);
      const keys = scopes.flatMap((s) => [...dayKeys(which, s), alertsKey(which, s), ...dayKeys(before, s)]);
      const args = [at, clock.startOf(which), next];
      const flat = await guarded(() => runScript<number[]>(redis, BUDGET_READ, keys, args));
      let i = 0;
      const states = scopes.map((scope): ScopeState => {
        const [spentNanos = 0, reservedNanos = 0, calls = 0, sent = 0] = flat.slice(i, i + 4);
        const alertsSent = flat.slice(i + 4, i + 4 + sent).sort((a, b) => a - b);
        i += 4 + sent;
        return { scope, spentNanos, reservedNanos, calls, alertsSent };
      });
      return { day: which, resetsAt: new Date(next).toISOString(), scopes: states };
    },

    archiveDay: (day) => archiveDay(archive, day),
    history: (limit) => readHistory(archive, limit),
  };
}
