import { describe, expect, it } from 'vitest';
import { createDayClock } from '../../lib/budget';
import { leasesKey, scopeIndexKey, totalsKey } from '../../lib/budget/keys';
import { budgetSetup, held, rawTotals } from '../support/budget';

// The day boundary (#14): a reservation open at midnight counts against the new day until it settles,
// and its spend lands on the day the call ended. The clock is moved across midnight, never waited for.
const OLD = '2026-11-27';
const NEW = '2026-11-28';
const MIDNIGHT = Date.UTC(2026, 10, 28);
const MIN = 60_000;
const E = 1_000_000;

describe('a reservation open across midnight', () => {
  it('counts against the new day: a new-day reservation that would overflow is refused, one that fits is not', async () => {
    const { budget, clock, globalScope } = budgetSetup(MIDNIGHT - MIN, { leaseMs: 10 * MIN });
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    const open = held(await budget.reserve(scopes, 6 * E));
    expect(open.day).toBe(OLD);

    clock.ms = MIDNIGHT + MIN;
    expect(await budget.reserve(scopes, 5 * E)).toEqual({
      ok: false,
      scope: globalScope,
      spentNanos: 0,
      reservedNanos: 6 * E,
      limitNanos: 10 * E,
      day: NEW,
      resetsAt: '2026-11-29T00:00:00.000Z',
    });
    const fits = held(await budget.reserve(scopes, 4 * E));
    expect(fits.day).toBe(NEW);
    // The new day's reads show the carried-over lease as reserved, as the reserve counted it.
    expect((await budget.read([globalScope])).scopes[0]).toMatchObject({
      spentNanos: 0,
      reservedNanos: 10 * E,
    });
  });

  it('lands its settle on the day the call ended, with its alerts, and the old day loses the lease', async () => {
    const { budget, redis, clock, globalScope, key } = budgetSetup(MIDNIGHT - MIN, { leaseMs: 10 * MIN });
    const scopes = [
      { scope: globalScope, limit: 10 * E },
      { scope: key('a'), limit: 10 * E },
    ];
    const open = held(await budget.reserve(scopes, 6 * E));
    clock.ms = MIDNIGHT + MIN;
    expect(await budget.settle(open, 5 * E, { alertThresholds: [4 * E] })).toEqual({
      day: NEW,
      spentNanos: 5 * E,
      crossed: [4 * E],
      overrun: false,
      alreadySettled: false,
    });
    const [newDay, oldDay] = [
      await budget.read([globalScope, key('a')]),
      await budget.read([globalScope], OLD),
    ];
    expect(newDay.scopes.map((s) => [s.spentNanos, s.reservedNanos, s.calls])).toEqual([
      [5 * E, 0, 1],
      [5 * E, 0, 1],
    ]);
    expect(newDay.scopes[0]?.alertsSent).toEqual([4 * E]);
    expect(oldDay.scopes[0]).toMatchObject({ spentNanos: 0, reservedNanos: 0, calls: 0, alertsSent: [] });
    expect(await rawTotals(redis, OLD, key('a'))).toEqual({ spent: null, reserved: 0, calls: null });
    expect(await redis.zcard(leasesKey(OLD, key('a')))).toBe(0);
    // The key spent on the new day only, so the new day's archive reports it.
    expect(await redis.sismember(scopeIndexKey(NEW), key('a'))).toBe(1);
    expect(await budget.settle(open, 5 * E)).toMatchObject({ alreadySettled: true, spentNanos: 5 * E });
  });

  it('is charged on the new day when its lease expires after midnight, and a late settle corrects it there once', async () => {
    // America/New_York: the budget day turns at 05:00 UTC in winter.
    const midnight = createDayClock('America/New_York').startOf(NEW);
    const { budget, redis, clock, globalScope } = budgetSetup(midnight - MIN, {
      leaseMs: 2 * MIN,
      timeZone: 'America/New_York',
    });
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    const lost = held(await budget.reserve(scopes, 6 * E));
    clock.ms = midnight + 5 * MIN;
    // Expired but not swept: reads already count it as spent, on the day it expired.
    expect((await budget.read([globalScope])).scopes[0]).toMatchObject({
      spentNanos: 6 * E,
      reservedNanos: 0,
    });
    expect((await budget.read([globalScope], OLD)).scopes[0]).toMatchObject({ spentNanos: 0 });
    // The next reserve sweeps it onto the new day, where it still counts against the limit.
    expect(await budget.reserve(scopes, 5 * E)).toMatchObject({
      ok: false,
      spentNanos: 6 * E,
      reservedNanos: 0,
    });
    expect(await rawTotals(redis, NEW, globalScope)).toEqual({ spent: 6 * E, reserved: null, calls: null });
    expect(await rawTotals(redis, OLD, globalScope)).toEqual({ spent: null, reserved: 0, calls: null });

    expect(await budget.settle(lost, 2 * E)).toMatchObject({
      day: NEW,
      spentNanos: 2 * E,
      alreadySettled: false,
    });
    expect(await budget.settle(lost, 2 * E)).toMatchObject({ spentNanos: 2 * E, alreadySettled: true });
    expect(await rawTotals(redis, NEW, globalScope)).toEqual({ spent: 2 * E, reserved: null, calls: 1 });
    expect(await rawTotals(redis, OLD, globalScope)).toEqual({ spent: null, reserved: 0, calls: null });
  });

  it('keeps a charge, and its correction, on the day it was charged when the settle comes days later', async () => {
    const { budget, redis, clock, globalScope } = budgetSetup(MIDNIGHT - MIN, { leaseMs: 2 * MIN });
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    const lost = held(await budget.reserve(scopes, 6 * E));
    clock.ms = MIDNIGHT + 5 * MIN;
    held(await budget.reserve(scopes, 0)); // sweeps the expired lease onto the new day
    clock.ms = MIDNIGHT + 2 * 86_400_000; // two days on: the new day's reserves never held room for it
    expect(await budget.settle(lost, 7 * E)).toMatchObject({
      day: '2026-11-30',
      spentNanos: 0,
      overrun: true,
      alreadySettled: false,
    });
    expect(await rawTotals(redis, NEW, globalScope)).toMatchObject({ spent: 7 * E, calls: 1 });
    expect(await redis.exists(totalsKey('2026-11-30', globalScope))).toBe(0);
  });

  it('is charged on its own day when its lease expired before midnight, though swept after it', async () => {
    const { budget, redis, clock, globalScope } = budgetSetup(MIDNIGHT - 60 * MIN, { leaseMs: 10 * MIN });
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    const lost = held(await budget.reserve(scopes, 6 * E));
    clock.ms = MIDNIGHT + MIN;
    expect(await budget.reserve(scopes, 10 * E)).toMatchObject({ ok: true });
    expect(await rawTotals(redis, OLD, globalScope)).toEqual({ spent: 6 * E, reserved: 0, calls: null });
    expect(await rawTotals(redis, NEW, globalScope)).toEqual({ spent: null, reserved: 10 * E, calls: null });
    // Its late settle corrects the old day, where the charge is.
    await budget.settle(lost, E);
    expect(await rawTotals(redis, OLD, globalScope)).toEqual({ spent: E, reserved: 0, calls: 1 });
  });

  it('ends a lease at the latest when the day after the one it was made on ends, renewed or not', async () => {
    const { budget, redis, clock, globalScope } = budgetSetup(MIDNIGHT - 60 * MIN, {
      leaseMs: 30 * 3_600_000,
    });
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    const long = held(await budget.reserve(scopes, 6 * E));
    const lastMs = MIDNIGHT + 86_400_000 - 1;
    const member = `${long.id}:${6 * E}`;
    expect(await redis.zscore(leasesKey(OLD, globalScope), member)).toBe(lastMs);
    clock.ms = lastMs - MIN;
    expect(await budget.renew(long)).toBe(true);
    expect(await redis.zscore(leasesKey(OLD, globalScope), member)).toBe(lastMs);
    expect((await budget.read([globalScope])).scopes[0]).toMatchObject({ reservedNanos: 6 * E });

    // Two days on it holds nothing: charged on the day it expired (the one after it was made).
    clock.ms = lastMs + 1;
    expect((await budget.read([globalScope])).scopes[0]).toMatchObject({ spentNanos: 0, reservedNanos: 0 });
    expect((await budget.read([globalScope], NEW)).scopes[0]).toMatchObject({ spentNanos: 6 * E });
    expect(await budget.archiveDay(NEW)).toMatchObject({ spentNanos: 6 * E, calls: 0 });
    expect(await rawTotals(redis, NEW, globalScope)).toMatchObject({ spent: 6 * E });
  });
});

describe('the day boundary under concurrency', () => {
  it('never bills the new day past its limit when calls open at midnight settle after it', async () => {
    const { budget, clock, globalScope } = budgetSetup(MIDNIGHT - 1000, { leaseMs: 10 * MIN });
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    // Before midnight: 20 callers, 10 fit.
    const before = await Promise.all(Array.from({ length: 20 }, () => budget.reserve(scopes, E)));
    const open = before.filter((r) => r.ok).map(held);
    expect(open).toHaveLength(10);
    clock.ms = MIDNIGHT + 1000;
    // After it: 20 new callers race the 10 settles, which land on the new day at their whole amount.
    const after = await Promise.all([
      ...Array.from({ length: 20 }, async () => {
        const r = await budget.reserve(scopes, E);
        if (r.ok) await budget.settle(r.reservation, E);
        return r;
      }),
      ...open.map(async (r) => {
        await budget.settle(r, E);
        return undefined;
      }),
    ]);
    const admitted = after.filter((r) => r?.ok).length;
    const [today, yesterday] = [
      (await budget.read([globalScope])).scopes[0],
      (await budget.read([globalScope], OLD)).scopes[0],
    ];
    expect(today).toMatchObject({ spentNanos: (10 + admitted) * E, reservedNanos: 0, calls: 10 + admitted });
    expect(today?.spentNanos).toBeLessThanOrEqual(10 * E);
    expect(yesterday).toMatchObject({ spentNanos: 0, reservedNanos: 0, calls: 0 });
    for (const r of after) {
      if (r && !r.ok) expect(r.spentNanos + r.reservedNanos + E).toBeGreaterThan(10 * E);
    }
  });
});

describe('the archive at the day boundary', () => {
  it('archives the old day without the carried-over lease and the new day with its settle and its charges', async () => {
    const { budget, clock, globalScope, key } = budgetSetup(MIDNIGHT - 10 * MIN, { leaseMs: 20 * MIN });
    const scopes = (id: string) => [
      { scope: globalScope, limit: 100 * E },
      { scope: key(id), limit: 100 * E },
    ];
    const settled = held(await budget.reserve(scopes('a'), 3 * E)); // settles after midnight
    held(await budget.reserve(scopes('b'), 4 * E)); // its isolate died; expires at 00:10
    await budget.settle(held(await budget.reserve(scopes('c'), E)), E); // before midnight
    clock.ms = MIDNIGHT + 5 * MIN;
    await budget.settle(settled, 2 * E);

    clock.ms = MIDNIGHT + 86_400_000 + 5 * MIN; // the cron, the morning after the new day
    expect(await budget.archiveDay(OLD)).toEqual({
      day: OLD,
      spentNanos: E,
      calls: 1,
      keys: {
        a: { spentNanos: 0, calls: 0 },
        b: { spentNanos: 0, calls: 0 },
        c: { spentNanos: E, calls: 1 },
      },
    });
    // Nothing was reserved on the new day: the lost lease of `b` is charged by the archive itself.
    expect(await budget.archiveDay(NEW)).toEqual({
      day: NEW,
      spentNanos: 6 * E,
      calls: 1,
      keys: { a: { spentNanos: 2 * E, calls: 1 }, b: { spentNanos: 4 * E, calls: 0 } },
    });
    expect(await budget.archiveDay(NEW)).toMatchObject({ spentNanos: 6 * E });
    expect((await budget.history()).map((d) => [d.day, d.spentNanos])).toEqual([
      [NEW, 6 * E],
      [OLD, E],
    ]);
  });

  it('leaves a lease still open when its day ended to the day after, where it is carried over', async () => {
    const { budget, redis, clock, globalScope } = budgetSetup(MIDNIGHT + 86_400_000 - MIN, {
      leaseMs: 10 * MIN,
    });
    held(await budget.reserve([{ scope: globalScope, limit: 10 * E }], 3 * E));
    clock.ms = MIDNIGHT + 86_400_000 + 5 * MIN; // the cron archives the day the lease was made on
    expect(await budget.archiveDay(NEW)).toMatchObject({ spentNanos: 0 });
    expect(await redis.zcard(leasesKey(NEW, globalScope))).toBe(1);
    expect(await redis.hget(totalsKey(NEW, globalScope), 'reserved')).toBe(3 * E);
  });
});
