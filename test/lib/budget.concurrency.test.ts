import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import { type BudgetOptions, createBudget, type ReserveResult } from '../../lib/budget';
import { totalsKey } from '../../lib/budget/keys';
import { bindings } from '../support/env';

// Budgets built from separate Redis clients stand in for separate isolates sharing one Redis. The day
// keys are shared with other test files, so every test names its own scopes.
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const DAY = '2026-11-27';
const E = 1_000_000; // a worst-case estimate, in nanodollars

function isolate(clock: { ms: number }, options: Partial<BudgetOptions>) {
  const redis = new Redis({
    url: bindings.UPSTASH_REDIS_REST_URL,
    token: bindings.UPSTASH_REDIS_REST_TOKEN,
    signal: () => AbortSignal.timeout(5000),
    retry: { retries: 0 },
    enableTelemetry: false,
  });
  return { budget: createBudget({ redis, now: () => clock.ms }, options), redis };
}

function uniqueScopes() {
  const tag = crypto.randomUUID();
  return { globalScope: `global:${tag}`, keyScopePrefix: `key:${tag}:` };
}

/** Resolves once `count` callers have arrived, so every reserve is answered before any settle. */
function barrier(count: number) {
  let arrived = 0;
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    if (++arrived === count) open();
    return opened;
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every refusal must have been right when it was made: the amount really did not fit. */
function expectRefusalsJustified(results: ReserveResult[], amounts: number[]) {
  results.forEach((r, i) => {
    if (r.ok) return;
    expect(r.spentNanos + r.reservedNanos + (amounts[i] ?? 0)).toBeGreaterThan(r.limitNanos);
  });
}

describe('createBudget under concurrency (two isolates)', () => {
  it('admits exactly the 57 of 200 concurrent reservations that fit, never overspends, and ends with 0 reserved', async () => {
    const clock = { ms: T0 };
    const options = uniqueScopes();
    const [a, b] = [isolate(clock, options), isolate(clock, options)];
    const limit = 57 * E + E / 2; // room for 57 estimates, not 58
    const scopes = [{ scope: options.globalScope, limit }];
    const arrive = barrier(200);
    const actuals: number[] = [];

    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const { budget } = i % 2 ? a : b;
        const held = await budget.reserve(scopes, E);
        await arrive();
        if (!held.ok) return held;
        await pause(i % 5); // the upstream call
        const actual = E - ((i * 7919) % (E / 2)); // between half and all of the estimate
        actuals.push(actual);
        await budget.settle(held.reservation, actual);
        return held;
      }),
    );

    expect(results.filter((r) => r.ok)).toHaveLength(57);
    expectRefusalsJustified(results, Array(200).fill(E));
    for (const r of results.filter((r) => !r.ok)) {
      expect(r).toMatchObject({
        scope: options.globalScope,
        limitNanos: limit,
        spentNanos: 0,
        reservedNanos: 57 * E,
      });
    }
    const spent = actuals.reduce((sum, x) => sum + x, 0);
    expect(spent).toBeLessThanOrEqual(limit);
    const { scopes: states } = await a.budget.read([options.globalScope]);
    expect(states).toEqual([
      { scope: options.globalScope, spentNanos: spent, reservedNanos: 0, calls: 57, alertsSent: [] },
    ]);
    expect(await b.redis.hget(totalsKey(DAY, options.globalScope), 'reserved')).toBe(0);
  });

  it('never overspends a global and per-key budgets with 200 interleaved reserve → settle or release sequences', async () => {
    const clock = { ms: T0 };
    const options = uniqueScopes();
    const [a, b] = [isolate(clock, options), isolate(clock, options)];
    const globalLimit = 40 * E;
    const keyIds = ['k0', 'k1', 'k2', 'k3'];
    const keyLimit = 12 * E;
    const amounts = Array.from({ length: 200 }, (_, i) => E * (1 + (i % 3)));
    const settled = new Map<string, number>(); // scope → spend recorded
    let calls = 0;

    const results = await Promise.all(
      amounts.map(async (amount, i) => {
        const { budget } = i % 2 ? a : b;
        const keyScope = `${options.keyScopePrefix}${keyIds[i % 4]}`;
        const scopes = [
          { scope: options.globalScope, limit: globalLimit },
          { scope: keyScope, limit: keyLimit },
        ];
        await pause(i % 7);
        const held = await budget.reserve(scopes, amount);
        if (!held.ok) return held;
        await pause((i * 13) % 11);
        if (i % 5 === 1) {
          expect(await budget.release(held.reservation)).toBe(true);
          return held;
        }
        const actual = amount - ((i * 104_729) % amount);
        await budget.settle(held.reservation, actual);
        calls++;
        for (const s of held.reservation.scopes) settled.set(s, (settled.get(s) ?? 0) + actual);
        return held;
      }),
    );

    expectRefusalsJustified(results, amounts);
    expect(results.some((r) => !r.ok && r.scope === options.globalScope)).toBe(true);
    const names = [options.globalScope, ...keyIds.map((id) => `${options.keyScopePrefix}${id}`)];
    const { scopes: states } = await b.budget.read(names);
    const [global, ...keys] = states;
    expect(global).toMatchObject({ spentNanos: settled.get(options.globalScope), reservedNanos: 0, calls });
    expect(global?.spentNanos).toBeLessThanOrEqual(globalLimit);
    for (const key of keys) {
      expect(key).toMatchObject({ spentNanos: settled.get(key.scope) ?? 0, reservedNanos: 0 });
      expect(key.spentNanos).toBeLessThanOrEqual(keyLimit);
    }
    expect(keys.reduce((sum, k) => sum + k.calls, 0)).toBe(calls);
    for (const name of names) expect(await a.redis.hget(totalsKey(DAY, name), 'reserved')).toBe(0);
  });
});

describe('createBudget fallback tier under concurrency', () => {
  it('100 concurrent callers with a fallback never pass the limit, and degrade only when the full amount would not fit', async () => {
    const names = uniqueScopes();
    const clock = { ms: T0 };
    const a = isolate(clock, names);
    const b = isolate(clock, names);
    const limit = 40 * E + E / 2;
    const scopes = [{ scope: names.globalScope, limit }];
    const fallback = { amount: E / 4, above: 1_000 * E };
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).budget.reserve(scopes, E, { fallback })),
    );
    const held = results.flatMap((r) => (r.ok ? [r.reservation.amount] : []));
    const total = held.reduce((sum, x) => sum + x, 0);
    expect(total).toBeLessThanOrEqual(limit);
    // 40 full reservations leave E/2: room for exactly two fallbacks; the rest is refused.
    expect(results.filter((r) => r.ok && !r.degraded)).toHaveLength(40);
    expect(results.filter((r) => r.ok && r.degraded)).toHaveLength(2);
    expect(total).toBe(limit);
    const state = await a.budget.read([names.globalScope]);
    expect(state.scopes[0]?.reservedNanos).toBe(total);
  });
});

describe('createBudget alerts', () => {
  it('fires each threshold in exactly one of 20 concurrent settles, not again that day, and again the next day', async () => {
    const clock = { ms: T0 };
    const options = uniqueScopes();
    const [a, b] = [isolate(clock, options), isolate(clock, options)];
    const limit = 20 * E;
    const thresholds = [16 * E, limit]; // 80 % and 100 %
    const scopes = [{ scope: options.globalScope, limit }];
    const held = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).budget.reserve(scopes, E)),
    );
    const settles = await Promise.all(
      held.map((h, i) => {
        if (!h.ok) throw new Error(`reservation ${i} refused`);
        return (i % 2 ? b : a).budget.settle(h.reservation, E, { alertThresholds: thresholds });
      }),
    );

    const firing = (t: number) => settles.filter((s) => s.crossed.includes(t));
    expect(firing(16 * E)).toHaveLength(1);
    expect(firing(16 * E)[0]?.spentNanos).toBeGreaterThanOrEqual(16 * E);
    expect(firing(limit)).toEqual([
      { day: DAY, spentNanos: limit, crossed: [limit], overrun: false, alreadySettled: false },
    ]);
    expect(settles.flatMap((s) => s.crossed)).toHaveLength(2);

    // Same day, with a raised limit: the thresholds are already behind us.
    const more = await a.budget.reserve([{ scope: options.globalScope, limit: 2 * limit }], E);
    if (!more.ok) throw new Error('refused');
    expect((await b.budget.settle(more.reservation, E, { alertThresholds: thresholds })).crossed).toEqual([]);
    expect((await a.budget.read([options.globalScope])).scopes[0]?.alertsSent).toEqual(thresholds);

    // The next day starts clean and alerts again, both thresholds in one settle.
    clock.ms = T0 + 86_400_000;
    const next = await b.budget.reserve(scopes, limit);
    if (!next.ok) throw new Error('refused');
    const settle = await a.budget.settle(next.reservation, limit, { alertThresholds: thresholds });
    expect(settle).toEqual({
      day: '2026-11-28',
      spentNanos: limit,
      crossed: thresholds,
      overrun: false,
      alreadySettled: false,
    });
  });

  it('alerts only for the global scope, and not from a settle that was a duplicate', async () => {
    const clock = { ms: T0 };
    const options = uniqueScopes();
    const { budget } = isolate(clock, options);
    const key = `${options.keyScopePrefix}solo`;
    const onlyKey = await budget.reserve([{ scope: key, limit: 10 * E }], 5 * E);
    if (!onlyKey.ok) throw new Error('refused');
    expect(await budget.settle(onlyKey.reservation, 5 * E, { alertThresholds: [E] })).toEqual({
      day: DAY,
      spentNanos: 5 * E,
      crossed: [],
      overrun: false,
      alreadySettled: false,
    });

    const both = await budget.reserve([{ scope: options.globalScope, limit: 10 * E }], 2 * E);
    if (!both.ok) throw new Error('refused');
    const first = await budget.settle(both.reservation, 2 * E, { alertThresholds: [E, 3 * E] });
    expect(first.crossed).toEqual([E]);
    const again = await budget.settle(both.reservation, 2 * E, { alertThresholds: [E, 2 * E] });
    expect(again).toEqual({
      day: DAY,
      spentNanos: 2 * E,
      crossed: [],
      overrun: false,
      alreadySettled: true,
    });
  });
});
