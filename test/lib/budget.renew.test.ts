import { describe, expect, it } from 'vitest';
import { leasesKey, totalsKey } from '../../lib/budget/keys';
import { budgetSetup, held, rawTotals } from '../support/budget';

// A call that runs longer than its lease (a long stream) renews it, so its headroom is neither handed
// to other calls nor charged by a sweep while it runs (#14).
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const DAY = '2026-11-27';
const E = 1_000_000;

describe('createBudget renew', () => {
  it('extends a live lease on every scope: a call longer than its lease is neither swept nor counted as spent', async () => {
    const { budget, redis, clock, globalScope, key } = budgetSetup(T0, { leaseMs: 1000 });
    const scopes = [
      { scope: globalScope, limit: 10 * E },
      { scope: key('a'), limit: 10 * E },
    ];
    const running = held(await budget.reserve(scopes, 4 * E));
    clock.ms += 900;
    expect(await budget.renew(running)).toBe(true);
    for (const scope of [globalScope, key('a')]) {
      expect(await redis.zscore(leasesKey(DAY, scope), `${running.id}:${4 * E}`)).toBe(T0 + 1900);
    }

    clock.ms = T0 + 1500; // past the lease it was reserved with
    expect((await budget.read([globalScope, key('a')])).scopes.map((s) => s.reservedNanos)).toEqual([
      4 * E,
      4 * E,
    ]);
    // A reserve sweeps the scope, and finds nothing expired: its headroom is still held.
    expect(await budget.reserve(scopes, 6 * E + 1)).toMatchObject({
      ok: false,
      spentNanos: 0,
      reservedNanos: 4 * E,
    });
    expect(await rawTotals(redis, DAY, globalScope)).toEqual({ spent: null, reserved: 4 * E, calls: null });

    expect(await budget.settle(running, 3 * E)).toMatchObject({ spentNanos: 3 * E, alreadySettled: false });
    expect(await rawTotals(redis, DAY, key('a'))).toEqual({ spent: 3 * E, reserved: 0, calls: 1 });
    expect(await redis.hkeys(totalsKey(DAY, globalScope))).not.toContain(`ended:${running.id}`);
  });

  it('returns false and changes nothing once the lease has ended: settled, released, or expired', async () => {
    const { budget, redis, clock, globalScope } = budgetSetup(T0, { leaseMs: 1000 });
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    const settled = held(await budget.reserve(scopes, E));
    await budget.settle(settled, E);
    const released = held(await budget.reserve(scopes, E));
    await budget.release(released);
    const expired = held(await budget.reserve(scopes, 2 * E));
    clock.ms += 1000;

    expect(await budget.renew(settled)).toBe(false);
    expect(await budget.renew(released)).toBe(false);
    // Expired but not swept: it already counts as spent, and renewing would hand that back.
    expect(await budget.renew(expired)).toBe(false);
    expect(await redis.zscore(leasesKey(DAY, globalScope), `${expired.id}:${2 * E}`)).toBe(T0 + 1000);
    expect((await budget.read([globalScope])).scopes[0]).toMatchObject({
      spentNanos: 3 * E,
      reservedNanos: 0,
    });
    // Swept, then settled late: the charge is corrected once, as without renewals.
    held(await budget.reserve(scopes, 0));
    expect(await budget.renew(expired)).toBe(false);
    await budget.settle(expired, E);
    expect(await rawTotals(redis, DAY, globalScope)).toEqual({ spent: 2 * E, reserved: 0, calls: 2 });
  });

  it('never shortens a lease, and checks its arguments before touching Redis', async () => {
    const { budget, redis, requests, globalScope } = budgetSetup(T0, { leaseMs: 10_000 });
    const r = held(await budget.reserve([{ scope: globalScope, limit: E }], E));
    expect(await budget.renew(r, { leaseMs: 10 })).toBe(true);
    expect(await redis.zscore(leasesKey(DAY, globalScope), `${r.id}:${E}`)).toBe(T0 + 10_000);
    const sent = requests.length;
    await expect(budget.renew(r, { leaseMs: 0 })).rejects.toThrow(RangeError);
    await expect(budget.renew({ ...r, scopes: [] })).rejects.toThrow(RangeError);
    expect(requests.length).toBe(sent);
  });
});
