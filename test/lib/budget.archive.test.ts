import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import { createBudget, type Reservation, type ReserveResult } from '../../lib/budget';
import { alertsKey, historyKey, leasesKey, scopeIndexKey, totalsKey } from '../../lib/budget/keys';
import { bindings } from '../support/env';

// The day keys are shared with other test files, so every test names its own scopes; the history is
// kept per global scope, so it is private to the test too.
// A day no other test file uses: the day's scope index (`scopeIndexKey(DAY)`) is one key for every
// scope, and a file running alongside on the same day set its TTL with its own clock.
const T0 = Date.UTC(2027, 1, 17, 12, 0, 0);
const DAY = '2027-02-17';
const E = 1_000_000;
const DAY_S = 86_400;

function setup() {
  const tag = crypto.randomUUID();
  const clock = { ms: T0 };
  const redis = new Redis({
    url: bindings.UPSTASH_REDIS_REST_URL,
    token: bindings.UPSTASH_REDIS_REST_TOKEN,
    signal: () => AbortSignal.timeout(2000),
    retry: { retries: 0 },
    enableTelemetry: false,
  });
  const globalScope = `global:${tag}`;
  const keyScopePrefix = `key:${tag}:`;
  const budget = createBudget({ redis, now: () => clock.ms }, { globalScope, keyScopePrefix });
  const scopes = (keyId?: string) => [
    { scope: globalScope, limit: 100 * E },
    ...(keyId ? [{ scope: `${keyScopePrefix}${keyId}`, limit: 10 * E }] : []),
  ];
  return { budget, redis, clock, globalScope, keyScopePrefix, scopes };
}

function held(result: ReserveResult): Reservation {
  if (!result.ok) throw new Error(`expected a reservation, got ${JSON.stringify(result)}`);
  return result.reservation;
}

describe('createBudget archiveDay', () => {
  it("archives the day's global and per-key totals, charging leftover leases, the same when run twice", async () => {
    const { budget, redis, clock, globalScope, keyScopePrefix, scopes } = setup();
    await budget.settle(held(await budget.reserve(scopes('alpha'), 2 * E)), 2 * E);
    await budget.settle(held(await budget.reserve(scopes('alpha'), 2 * E)), E + 7);
    await budget.settle(held(await budget.reserve(scopes('beta'), 2 * E)), 5);
    await budget.settle(held(await budget.reserve(scopes(), E)), E);
    held(await budget.reserve(scopes('beta'), 3 * E, { leaseMs: 60_000 })); // its isolate died
    // Another budget's key on the same day is not ours to report.
    await redis.sadd(scopeIndexKey(DAY), 'key:someone-else');

    clock.ms = Date.UTC(2027, 1, 18, 0, 5); // the cron, the next morning
    // The dead isolate's reservation is charged in full: the provider may well have billed its call.
    const expected = {
      day: DAY,
      spentNanos: 7 * E + 12,
      calls: 4,
      keys: { alpha: { spentNanos: 3 * E + 7, calls: 2 }, beta: { spentNanos: 3 * E + 5, calls: 1 } },
    };
    expect(await budget.archiveDay(DAY)).toEqual(expected);
    const { scopes: states } = await budget.read([globalScope, `${keyScopePrefix}beta`], DAY);
    expect(states.map((s) => s.reservedNanos)).toEqual([0, 0]);
    expect(await redis.hget(totalsKey(DAY, globalScope), 'reserved')).toBe(0);
    expect(await redis.zcard(leasesKey(DAY, globalScope))).toBe(0);

    clock.ms += 3 * DAY_S * 1000; // late and again
    expect(await budget.archiveDay(DAY)).toEqual(expected);
    expect(await budget.history()).toEqual([expected]);
    expect(await redis.hget(historyKey(globalScope), DAY)).toEqual(expected);
  });

  it("sets the retention TTL (day end + 8 days) on the day's working keys", async () => {
    const { budget, redis, clock, globalScope, keyScopePrefix, scopes } = setup();
    await budget.settle(held(await budget.reserve(scopes('alpha'), E)), E, { alertThresholds: [1] });
    held(await budget.reserve(scopes(), E, { leaseMs: 10 * DAY_S * 1000 })); // still live at the archive
    clock.ms = Date.UTC(2027, 1, 18, 1, 0); // 1 h after the day ended
    await budget.archiveDay(DAY);

    const expected = 8 * DAY_S - 3600; // shorter than the 8.5 days the reserve set at noon
    const keys = [
      scopeIndexKey(DAY),
      totalsKey(DAY, globalScope),
      leasesKey(DAY, globalScope),
      alertsKey(DAY, globalScope),
      totalsKey(DAY, `${keyScopePrefix}alpha`),
    ];
    for (const key of keys) {
      const ttl = await redis.ttl(key);
      expect({ key, ttl }).toEqual({ key, ttl: expect.any(Number) });
      expect(ttl).toBeGreaterThan(expected - 30);
      expect(ttl).toBeLessThanOrEqual(expected);
    }
  });

  it('replaces the charge with a settle that lands after the first run when run again', async () => {
    const { budget, clock, scopes } = setup();
    const late = held(await budget.reserve(scopes('alpha'), 2 * E));
    clock.ms = Date.UTC(2027, 1, 18, 0, 5);
    // Its lease has expired by the archive: charged at its reservation until its settle lands.
    expect(await budget.archiveDay(DAY)).toMatchObject({ spentNanos: 2 * E, calls: 0 });
    await budget.settle(late, E);
    expect(await budget.archiveDay(DAY)).toEqual({
      day: DAY,
      spentNanos: E,
      calls: 1,
      keys: { alpha: { spentNanos: E, calls: 1 } },
    });
  });
});

describe('createBudget history', () => {
  it('lists archived days newest first, at most `limit`', async () => {
    const { budget, clock, scopes } = setup();
    for (const [day, spent] of [
      ['2026-11-25', 3],
      ['2026-11-27', 7],
      ['2026-11-26', 5],
    ] as const) {
      clock.ms = Date.parse(`${day}T12:00:00Z`);
      await budget.settle(held(await budget.reserve(scopes(), spent)), spent);
      clock.ms += DAY_S * 1000;
      await budget.archiveDay(day);
    }
    const days = await budget.history();
    expect(days.map((d) => [d.day, d.spentNanos])).toEqual([
      ['2026-11-27', 7],
      ['2026-11-26', 5],
      ['2026-11-25', 3],
    ]);
    expect((await budget.history(2)).map((d) => d.day)).toEqual(['2026-11-27', '2026-11-26']);
    await expect(budget.history(0)).rejects.toThrow(RangeError);
    await expect(budget.archiveDay('yesterday')).rejects.toThrow(RangeError);
  });
});
