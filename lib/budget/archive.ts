/**
 * The budget's history: the cron archives each finished day's totals into one Redis hash (field = day,
 * value = JSON built here), and `GET /v1/budget` style readers list them newest first.
 */
import { BUDGET_ARCHIVE } from '../scripts/budget-archive';
import { runScript } from '../scripts/run';
import { type DayClock, isDay, shiftDay } from './day';
import { alertsKey, dayKeys, historyKey, scopeIndexKey } from './keys';
import type { BudgetDeps, HistoryDay } from './types';

/** What the archive needs from createBudget. */
export interface ArchiveContext {
  redis: BudgetDeps['redis'];
  now: () => number;
  globalScope: string;
  keyScopePrefix: string;
  /** Seconds the day's keys should live from `at`. */
  ttlSeconds: (day: string, at: number) => number;
  /** Turns store failures into StoreUnavailableError. */
  guarded: <T>(run: () => Promise<T>) => Promise<T>;
  /** The budget's calendar: where a day starts and ends. */
  clock: DayClock;
}

/**
 * Charges the leases that expired by the end of `day` (its own, and the day before's carried over into
 * it) on the day each expired, sets the retention TTL on its working keys, and writes its totals to the
 * history. Lists the scopes of both days, since a lease carried over charges a scope that may have
 * reserved nothing on `day`; reports the key scopes that reserved or spent on it. Idempotent: running it
 * twice, or days late, stores the same entry (a settle that lands after the run is counted by the next
 * run). Two round trips plus one write.
 */
export async function archiveDay(ctx: ArchiveContext, day: string): Promise<HistoryDay> {
  if (!isDay(day)) throw new RangeError(`not a YYYY-MM-DD day: ${day}`);
  const { redis, globalScope, keyScopePrefix, clock } = ctx;
  const before = shiftDay(day, -1);
  return ctx.guarded(async () => {
    // String(): the SDK turns members that look like JSON (`123`) into numbers.
    const members = (await redis.sunion(scopeIndexKey(day), scopeIndexKey(before))).map(String);
    const keyScopes = members.filter((s) => s !== globalScope && s.startsWith(keyScopePrefix)).sort();
    const scopes = [globalScope, ...keyScopes];
    const at = ctx.now();
    const upto = Math.min(at, clock.startOf(shiftDay(day, 1)) - 1);
    const keys = [
      scopeIndexKey(day),
      ...scopes.flatMap((s) => [...dayKeys(day, s), alertsKey(day, s), ...dayKeys(before, s)]),
    ];
    const args = [upto, clock.startOf(day), ctx.ttlSeconds(day, at), ...scopes];
    const flat = await runScript<number[]>(redis, BUDGET_ARCHIVE, keys, args);
    const entry: HistoryDay = { day, spentNanos: flat[0] ?? 0, calls: flat[1] ?? 0, keys: {} };
    keyScopes.forEach((scope, i) => {
      const [spentNanos = 0, calls = 0, onDay = 0] = flat.slice(3 * i + 3, 3 * i + 6);
      if (onDay === 1) entry.keys[scope.slice(keyScopePrefix.length)] = { spentNanos, calls };
    });
    await redis.hset(historyKey(globalScope), { [day]: JSON.stringify(entry) });
    return entry;
  });
}

/** The archived days, newest first, at most `limit` of them. One round trip. */
export async function readHistory(ctx: ArchiveContext, limit = 30): Promise<HistoryDay[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const all = await ctx.guarded(() =>
    ctx.redis.hgetall<Record<string, unknown>>(historyKey(ctx.globalScope)),
  );
  return Object.values(all ?? {})
    .map((value) => (typeof value === 'string' ? JSON.parse(value) : value) as HistoryDay)
    .sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : 0))
    .slice(0, limit);
}
