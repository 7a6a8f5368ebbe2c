import type { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import { type BudgetOptions, createBudget, type Reservation, type ReserveResult } from '../../lib/budget';
import { alertsKey, dayKeys, leasesKey, scopeIndexKey, totalsKey } from '../../lib/budget/keys';
import { BUDGET_RESERVE, BUDGET_SETTLE } from '../../lib/scripts/budget';
import { BUDGET_RELEASE, BUDGET_RENEW } from '../../lib/scripts/budget-lease';
import { BUDGET_READ } from '../../lib/scripts/budget-read';
import type { LuaScript } from '../../lib/scripts/run';
import { bindings } from '../support/env';
import { countingClient } from '../support/redis';

// The day keys are shared with other test files, so every test names its own scopes.
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const DAY = '2026-11-27';
const BEFORE = '2026-11-26';
const RESETS_AT = '2026-11-28T00:00:00.000Z';
const E = 1_000_000;

/** A client like createDeps builds, logging each HTTP request it sends (see breaker.shared.test.ts). */
function isolate(
  clock: { ms: number },
  options: Partial<BudgetOptions>,
  url = bindings.UPSTASH_REDIS_REST_URL,
) {
  const { redis, requests } = countingClient(url);
  return { budget: createBudget({ redis, now: () => clock.ms }, options), redis, requests };
}

function setup(options: Partial<BudgetOptions> = {}) {
  const tag = crypto.randomUUID();
  const clock = { ms: T0 };
  const names = { globalScope: `global:${tag}`, keyScopePrefix: `key:${tag}:` };
  const env = isolate(clock, { ...names, ...options });
  const key = (id: string) => `${names.keyScopePrefix}${id}`;
  return { ...env, ...names, clock, key };
}

function held(result: ReserveResult): Reservation {
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result)}`);
  return result.reservation;
}

const raw = (redis: Redis, scope: string) =>
  redis.hmget<Record<string, number>>(totalsKey(DAY, scope), 'spent', 'reserved', 'calls');

describe('createBudget scopes', () => {
  it('refuses on the per-key budget while the global one has room, naming spent, reserved, limit and resetsAt', async () => {
    const { budget, globalScope, key } = setup();
    const scopes = [
      { scope: globalScope, limit: 10 * E },
      { scope: key('a'), limit: 2 * E },
    ];
    const first = held(await budget.reserve(scopes, 2 * E));
    expect(first).toEqual({
      id: expect.stringMatching(/^bres_/),
      day: DAY,
      amount: 2 * E,
      scopes: [globalScope, key('a')],
    });
    expect(await budget.reserve(scopes, 1)).toEqual({
      ok: false,
      scope: key('a'),
      spentNanos: 0,
      reservedNanos: 2 * E,
      limitNanos: 2 * E,
      day: DAY,
      resetsAt: RESETS_AT,
    });
    // The refusal changed nothing, and another key still fits under the global budget.
    held(
      await budget.reserve(
        [
          { scope: globalScope, limit: 10 * E },
          { scope: key('b'), limit: 2 * E },
        ],
        2 * E,
      ),
    );
    const { scopes: states } = await budget.read([globalScope, key('a'), key('b')]);
    expect(states.map((s) => s.reservedNanos)).toEqual([4 * E, 2 * E, 2 * E]);
  });

  it('refuses on the global budget while the key has room, counting what was settled as spent', async () => {
    const { budget, globalScope, key } = setup();
    const scopes = (id: string) => [
      { scope: globalScope, limit: 3 * E },
      { scope: key(id), limit: 10 * E },
    ];
    const first = held(await budget.reserve(scopes('a'), 3 * E));
    expect(await budget.reserve(scopes('b'), 1)).toMatchObject({
      ok: false,
      scope: globalScope,
      reservedNanos: 3 * E,
    });
    expect(await budget.settle(first, 2 * E)).toEqual({
      day: DAY,
      spentNanos: 2 * E,
      crossed: [],
      overrun: false,
      alreadySettled: false,
    });
    held(await budget.reserve(scopes('b'), E));
    expect(await budget.reserve(scopes('c'), 1)).toEqual({
      ok: false,
      scope: globalScope,
      spentNanos: 2 * E,
      reservedNanos: E,
      limitNanos: 3 * E,
      day: DAY,
      resetsAt: RESETS_AT,
    });
  });

  it('lets a limit of 0 refuse anything priced above 0, and counts a 0 reservation as a call', async () => {
    const { budget, redis, globalScope } = setup();
    const scopes = [{ scope: globalScope, limit: 0 }];
    expect(await budget.reserve(scopes, 1)).toMatchObject({ ok: false, scope: globalScope, limitNanos: 0 });
    const free = held(await budget.reserve(scopes, 0));
    expect(await budget.settle(free, 0)).toMatchObject({ spentNanos: 0, alreadySettled: false });
    expect(await raw(redis, globalScope)).toEqual({ spent: 0, reserved: 0, calls: 1 });
    // A 0 reservation is refused only once the scope is already over its limit.
    const over = held(await budget.reserve([{ scope: globalScope, limit: 0 }], 0));
    expect(await budget.settle(over, 5)).toMatchObject({ spentNanos: 5, overrun: true });
    expect(await budget.reserve(scopes, 0)).toMatchObject({ ok: false, spentNanos: 5, reservedNanos: 0 });
  });

  it('keeps amounts near 2^53 exact', async () => {
    const { budget, redis, globalScope } = setup();
    const big = 3_000_000_000_000_001; // 3 million dollars and a nanodollar
    const scopes = [{ scope: globalScope, limit: 2 * big + 1 }];
    const [one, two] = [held(await budget.reserve(scopes, big)), held(await budget.reserve(scopes, big))];
    expect(await budget.reserve(scopes, 2)).toMatchObject({ ok: false, reservedNanos: 2 * big });
    await budget.settle(one, big - 2);
    expect(await budget.settle(two, big)).toMatchObject({ spentNanos: 2 * big - 2 });
    expect(await raw(redis, globalScope)).toEqual({ spent: 2 * big - 2, reserved: 0, calls: 2 });
  });
});

describe('createBudget leases', () => {
  it('charges an expired lease at its reservation, and a late settle replaces the charge exactly once', async () => {
    const { budget, redis, clock, globalScope } = setup({ leaseMs: 1000 });
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    const lost = held(await budget.reserve(scopes, 4 * E));
    clock.ms += 1000;
    // Expired but not yet swept: read already counts it as spent, the counters still hold it reserved.
    expect((await budget.read([globalScope])).scopes[0]).toMatchObject({
      spentNanos: 4 * E,
      reservedNanos: 0,
    });
    expect(await raw(redis, globalScope)).toEqual({ spent: null, reserved: 4 * E, calls: null });

    // The next reserve sweeps it: charged, never handed back, so it still counts against the limit.
    const next = held(await budget.reserve(scopes, E));
    expect(await raw(redis, globalScope)).toEqual({ spent: 4 * E, reserved: E, calls: null });
    expect(await budget.reserve(scopes, 5 * E + 1)).toMatchObject({ ok: false, spentNanos: 4 * E });
    expect(await budget.settle(lost, 3 * E)).toEqual({
      day: DAY,
      spentNanos: 3 * E,
      crossed: [],
      overrun: false,
      alreadySettled: false,
    });
    expect(await budget.settle(lost, 3 * E)).toMatchObject({ spentNanos: 3 * E, alreadySettled: true });
    expect(await budget.release(lost)).toBe(false);
    expect(await raw(redis, globalScope)).toEqual({ spent: 3 * E, reserved: E, calls: 1 });
    expect(await budget.release(next)).toBe(true);
    expect(await raw(redis, globalScope)).toEqual({ spent: 3 * E, reserved: 0, calls: 1 });
  });

  it('settles exactly when one scope swept the lease and the other still holds it', async () => {
    const { budget, redis, clock, globalScope, key } = setup();
    const lost = held(
      await budget.reserve(
        [
          { scope: globalScope, limit: 10 * E },
          { scope: key('a'), limit: 5 * E },
        ],
        2 * E,
        { leaseMs: 50 },
      ),
    );
    clock.ms += 60;
    held(
      await budget.reserve(
        [
          { scope: globalScope, limit: 10 * E },
          { scope: key('b'), limit: 5 * E },
        ],
        E,
      ),
    ); // sweeps global only
    expect(await redis.zcard(leasesKey(DAY, key('a')))).toBe(1);
    expect(await budget.settle(lost, E)).toMatchObject({ spentNanos: E, alreadySettled: false });
    expect(await raw(redis, globalScope)).toEqual({ spent: E, reserved: E, calls: 1 });
    expect(await raw(redis, key('a'))).toEqual({ spent: E, reserved: 0, calls: 1 });
  });

  it('releases idempotently, and a release after settle changes nothing', async () => {
    const { budget, redis, globalScope } = setup();
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    const r = held(await budget.reserve(scopes, 2 * E));
    expect(await budget.release(r)).toBe(true);
    expect(await budget.release(r)).toBe(false);
    expect(await raw(redis, globalScope)).toEqual({ spent: null, reserved: 0, calls: null });
    const s = held(await budget.reserve(scopes, 2 * E));
    await budget.settle(s, E);
    expect(await budget.release(s)).toBe(false);
    expect(await raw(redis, globalScope)).toEqual({ spent: E, reserved: 0, calls: 1 });
  });

  it('records a settle after release once (money spent is counted), without giving the amount back twice', async () => {
    const { budget, redis, globalScope } = setup();
    const r = held(await budget.reserve([{ scope: globalScope, limit: 10 * E }], 2 * E));
    await budget.release(r);
    expect(await budget.settle(r, 3 * E)).toEqual({
      day: DAY,
      spentNanos: 3 * E,
      crossed: [],
      overrun: true,
      alreadySettled: false,
    });
    expect(await budget.settle(r, 3 * E)).toMatchObject({ overrun: false, alreadySettled: true });
    expect(await raw(redis, globalScope)).toEqual({ spent: 3 * E, reserved: 0, calls: 1 });
  });

  it('records an overrun in full and reports it', async () => {
    const { budget, globalScope } = setup();
    const r = held(await budget.reserve([{ scope: globalScope, limit: 2 * E }], E));
    expect(await budget.settle(r, 3 * E)).toMatchObject({ spentNanos: 3 * E, overrun: true });
    expect(await budget.reserve([{ scope: globalScope, limit: 2 * E }], 0)).toMatchObject({
      ok: false,
      spentNanos: 3 * E,
    });
  });
});

/** The wire form of one EVALSHA of `script` on `keys` with `argc` arguments. */
function evalsha(script: LuaScript, keys: string[], argc: number) {
  return ['evalsha', script.sha1, keys.length, ...keys, ...Array(argc).fill(expect.anything())];
}

describe('createBudget fallback tier (degrading to a cheaper model)', () => {
  it('reserves the full amount below the threshold and the fallback once spend has reached it', async () => {
    const { budget, globalScope } = setup();
    const scopes = [{ scope: globalScope, limit: 100 * E }];
    const fallback = { amount: E, above: 5 * E };
    const below = await budget.reserve(scopes, 6 * E, { fallback });
    expect(below).toMatchObject({ ok: true, degraded: false, reservation: { amount: 6 * E } });
    // Money merely reserved does not degrade (only spend counts, as for the alerts)...
    const reservedOnly = await budget.reserve(scopes, 4 * E, { fallback });
    expect(reservedOnly).toMatchObject({ ok: true, degraded: false });
    await budget.release(held(reservedOnly));
    // ...spend does.
    await budget.settle(held(below), 5 * E);
    const past = await budget.reserve(scopes, 4 * E, { fallback });
    expect(past).toMatchObject({ ok: true, degraded: true, reservation: { amount: E } });
    expect((await budget.read([globalScope])).scopes[0]).toMatchObject({
      spentNanos: 5 * E,
      reservedNanos: E,
    });
  });

  it('falls back when the full amount no longer fits, and refuses only when neither does', async () => {
    const { budget, globalScope, key } = setup();
    const scopes = [
      { scope: globalScope, limit: 10 * E },
      { scope: key('a'), limit: 3 * E },
    ];
    const fallback = { amount: E, above: 100 * E };
    expect(await budget.reserve(scopes, 2 * E, { fallback })).toMatchObject({ ok: true, degraded: false });
    // 2 of the key's 3 are held: the full 2 does not fit, the fallback 1 does.
    const second = await budget.reserve(scopes, 2 * E, { fallback });
    expect(second).toMatchObject({ ok: true, degraded: true, reservation: { amount: E } });
    expect(await budget.reserve(scopes, 2 * E, { fallback })).toMatchObject({
      ok: false,
      scope: key('a'),
      spentNanos: 0,
      reservedNanos: 3 * E,
    });
    // A settled fallback reservation gives back exactly what it held.
    await budget.settle(held(second), E / 2);
    expect((await budget.read([key('a')])).scopes[0]).toMatchObject({
      spentNanos: E / 2,
      reservedNanos: 2 * E,
    });
  });

  it('never degrades without a fallback, and checks the fallback before touching Redis', async () => {
    const { budget, globalScope, requests } = setup();
    const scopes = [{ scope: globalScope, limit: 10 * E }];
    expect(await budget.reserve(scopes, 11 * E)).toMatchObject({ ok: false });
    const sent = requests.length;
    await expect(budget.reserve(scopes, E, { fallback: { amount: -1, above: 0 } })).rejects.toThrow(
      RangeError,
    );
    await expect(budget.reserve(scopes, E, { fallback: { amount: 1, above: 0.5 } })).rejects.toThrow(
      RangeError,
    );
    expect(requests.length).toBe(sent);
  });
});

describe('createBudget round trips', () => {
  it('sends one EVALSHA in one HTTP request per reserve, renew, settle, release and read', async () => {
    const { budget, requests, globalScope, key } = setup();
    const scopes = [
      { scope: globalScope, limit: 10 * E },
      { scope: key('a'), limit: 10 * E },
    ];
    // Warm-up: the first run of each script may meet NOSCRIPT on a fresh Redis and send the source.
    const warm = held(await budget.reserve(scopes, E));
    await budget.renew(warm);
    await budget.settle(warm, E);
    await budget.release(held(await budget.reserve(scopes, E)));
    await budget.read([globalScope]);
    requests.length = 0;

    const r = held(await budget.reserve(scopes, E));
    await budget.renew(r);
    await budget.settle(r, E);
    await budget.release(held(await budget.reserve(scopes, E)));
    await budget.read([globalScope, key('a')]);
    const [g, k] = [globalScope, key('a')];
    // Each scope's keys of the day and of the day before, whose leases are carried over.
    const carried = (s: string) => [...dayKeys(DAY, s), ...dayKeys(BEFORE, s)];
    const reserve = evalsha(BUDGET_RESERVE, [scopeIndexKey(DAY), ...carried(g), ...carried(k)], 8 + 4);
    expect(requests).toEqual([
      [reserve],
      [evalsha(BUDGET_RENEW, [leasesKey(DAY, g), leasesKey(DAY, k)], 4)],
      [
        evalsha(
          BUDGET_SETTLE,
          [
            scopeIndexKey(DAY),
            alertsKey(DAY, g),
            ...[g, k].flatMap((s) => [leasesKey(DAY, s), totalsKey(DAY, s)]),
          ],
          7 + 2,
        ),
      ],
      [reserve],
      [evalsha(BUDGET_RELEASE, [...dayKeys(DAY, g), ...dayKeys(DAY, k)], 2)],
      [
        evalsha(
          BUDGET_READ,
          [g, k].flatMap((s) => [...dayKeys(DAY, s), alertsKey(DAY, s), ...dayKeys(BEFORE, s)]),
          3,
        ),
      ],
    ]);
  });

  it('checks its arguments before touching Redis', async () => {
    const { budget, requests, globalScope } = setup();
    const scope = { scope: globalScope, limit: E };
    await expect(budget.reserve([scope], 1.5)).rejects.toThrow(RangeError);
    await expect(budget.reserve([scope], -1)).rejects.toThrow(RangeError);
    await expect(budget.reserve([], 1)).rejects.toThrow(RangeError);
    await expect(budget.reserve([scope, scope], 1)).rejects.toThrow(RangeError);
    await expect(budget.reserve([{ scope: globalScope, limit: Number.NaN }], 1)).rejects.toThrow(RangeError);
    await expect(budget.reserve([scope], 1, { leaseMs: 0 })).rejects.toThrow(RangeError);
    await expect(budget.read([globalScope], '2026-02-30')).rejects.toThrow(RangeError);
    expect(requests).toEqual([]);
    expect(() => createBudget({ redis: {} as Redis, now: Date.now }, { timeZone: 'Mars/Olympus' })).toThrow(
      RangeError,
    );
  });
});

describe('createBudget without Redis (fails closed)', () => {
  it('rejects every operation with StoreUnavailableError when Redis is unreachable', async () => {
    const clock = { ms: T0 };
    const { budget } = isolate(clock, {}, 'http://127.0.0.1:9');
    const reservation: Reservation = { id: 'bres_x', day: DAY, amount: E, scopes: ['global'] };
    const unavailable = { name: 'StoreUnavailableError', status: 503, code: 'store_unavailable' };
    await expect(budget.reserve([{ scope: 'global', limit: E }], 1)).rejects.toMatchObject(unavailable);
    await expect(budget.settle(reservation, E)).rejects.toMatchObject(unavailable);
    await expect(budget.release(reservation)).rejects.toMatchObject(unavailable);
    await expect(budget.read(['global'])).rejects.toMatchObject(unavailable);
    await expect(budget.archiveDay(DAY)).rejects.toMatchObject(unavailable);
    await expect(budget.history()).rejects.toMatchObject(unavailable);
  });

  it('rejects with StoreUnavailableError when Redis answers with an error', async () => {
    const { budget, redis, globalScope } = setup();
    await redis.set(totalsKey(DAY, globalScope), 'not a hash', { ex: 60 });
    const error = await budget.reserve([{ scope: globalScope, limit: E }], 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'StoreUnavailableError', code: 'store_unavailable' });
    expect(String((error as Error).cause)).toContain('WRONGTYPE');
  });
});
