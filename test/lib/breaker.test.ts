import { describe, expect, it } from 'vitest';
import { type BreakerPermit, createBreaker } from '../../lib/breaker';
import type { BreakerOptions } from '../../lib/breaker-options';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { redisKey } from '../../lib/store';
import { bindings } from '../support/env';

// One breaker against the real Redis behind the bridge, with a clock the test moves. Each test uses
// its own random breaker name, so files running in parallel never share a key.
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const OPTIONS: BreakerOptions = { failureThreshold: 3, openSeconds: 60, probeLeaseMs: 10_000 };

function setup(options: Partial<BreakerOptions> = OPTIONS) {
  const clock = { ms: T0 };
  const { redis } = createDeps(parseEnv(bindings));
  const breaker = createBreaker({ redis, now: () => clock.ms }, options);
  return { breaker, clock, redis, name: `test:${crypto.randomUUID()}` };
}

function allowed(permit: BreakerPermit): BreakerPermit & { allowed: true } {
  if (!permit.allowed) throw new Error(`expected an allowed permit, got ${JSON.stringify(permit)}`);
  return permit;
}

/** Makes `times` calls that each fail; returns the state after the last report. */
async function failCalls(breaker: ReturnType<typeof setup>['breaker'], name: string, times: number) {
  let state = '';
  for (let i = 0; i < times; i++)
    state = await breaker.record(name, allowed(await breaker.acquire(name)), 'failure');
  return state;
}

/** Trips the breaker with the default test options and moves the clock to the start of half-open. */
async function tripToHalfOpen({ breaker, clock, name }: ReturnType<typeof setup>) {
  await failCalls(breaker, name, OPTIONS.failureThreshold);
  clock.ms += OPTIONS.openSeconds * 1000;
}

describe('createBreaker: closed → open', () => {
  it('stays closed after failureThreshold - 1 consecutive failures and opens on the next one', async () => {
    const { breaker, name } = setup();
    expect(await failCalls(breaker, name, 2)).toBe('closed');
    expect(await breaker.acquire(name)).toMatchObject({ allowed: true, probe: false, state: 'closed' });
    expect(await failCalls(breaker, name, 1)).toBe('open');
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 60 });
  });

  it('does not open when a success interrupts the failures, because the count restarts', async () => {
    const { breaker, name } = setup();
    await failCalls(breaker, name, 2);
    const permit = allowed(await breaker.acquire(name));
    expect(permit.failures).toBe(2);
    expect(await breaker.record(name, permit, 'success')).toBe('closed');
    expect(await failCalls(breaker, name, 2)).toBe('closed');
    expect(await breaker.inspect(name)).toEqual({ state: 'closed', failures: 2, retryAfterSeconds: 0 });
    expect(await failCalls(breaker, name, 1)).toBe('open');
  });

  it('uses the documented defaults: opens on the 5th failure for 60 seconds', async () => {
    const { breaker, clock, name } = setup({});
    expect(await failCalls(breaker, name, 4)).toBe('closed');
    expect(await failCalls(breaker, name, 1)).toBe('open');
    clock.ms += 59_000;
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 1 });
    clock.ms += 1000;
    expect(await breaker.acquire(name)).toMatchObject({ allowed: true, probe: true, state: 'half_open' });
  });

  it('rejects options that cannot work', () => {
    const { redis } = setup();
    const deps = { redis, now: Date.now };
    expect(() => createBreaker(deps, { failureThreshold: 0 })).toThrow(RangeError);
    expect(() => createBreaker(deps, { failureThreshold: 1.5 })).toThrow(RangeError);
    expect(() => createBreaker(deps, { openSeconds: 0 })).toThrow(RangeError);
    expect(() => createBreaker(deps, { probeLeaseMs: -1 })).toThrow(RangeError);
    expect(() => createBreaker(deps, { failureThreshold: undefined })).not.toThrow();
  });
});

describe('createBreaker: open', () => {
  it('refuses with retryAfterSeconds rounded up to the end of the open window', async () => {
    const { breaker, clock, name } = setup();
    await failCalls(breaker, name, 3);
    clock.ms += 1;
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 60 });
    clock.ms += 29_998;
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 31 });
    clock.ms += 30_000;
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 1 });
  });

  it('counts a late non-probe failure while open without changing the state or the window', async () => {
    const { breaker, clock, name } = setup();
    const late = allowed(await breaker.acquire(name));
    await failCalls(breaker, name, 3);
    clock.ms += 10_000;
    expect(await breaker.record(name, late, 'failure')).toBe('open');
    expect(await breaker.inspect(name)).toEqual({ state: 'open', failures: 4, retryAfterSeconds: 50 });
  });
});

describe('createBreaker: short windows', () => {
  it('keeps a fractional openSeconds to the millisecond, and still asks clients to wait 1 s', async () => {
    const { breaker, clock, name } = setup({ ...OPTIONS, openSeconds: 0.25 });
    await failCalls(breaker, name, OPTIONS.failureThreshold);
    clock.ms += 249;
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 1 });
    clock.ms += 1;
    expect(await breaker.acquire(name)).toMatchObject({ allowed: true, probe: true, state: 'half_open' });
  });
});

describe('createBreaker: half-open', () => {
  it('lets exactly one probe through once openSeconds have passed and refuses others for the lease', async () => {
    const ctx = setup();
    const { breaker, clock, name } = ctx;
    await tripToHalfOpen(ctx);
    const probe = allowed(await breaker.acquire(name));
    expect(probe).toMatchObject({ allowed: true, probe: true, state: 'half_open' });
    expect(probe.probeId).toEqual(expect.any(String));
    clock.ms += 2500;
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'half_open', retryAfterSeconds: 8 });
    expect(await breaker.inspect(name)).toEqual({ state: 'half_open', failures: 3, retryAfterSeconds: 8 });
  });

  it("holds the probe for the call's own lease when acquire names one (an image's minutes)", async () => {
    const ctx = setup();
    const { breaker, clock, name } = ctx;
    await tripToHalfOpen(ctx);
    expect(await breaker.acquire(name, { probeLeaseMs: 185_000 })).toMatchObject({ probe: true });
    clock.ms += 60_000;
    expect(await breaker.acquire(name)).toEqual({
      allowed: false,
      state: 'half_open',
      retryAfterSeconds: 125,
    });
    clock.ms += 125_000;
    expect(await breaker.acquire(name)).toMatchObject({ allowed: true, probe: true });
  });

  it('closes and forgets the failures when the probe succeeds', async () => {
    const ctx = setup();
    const { breaker, name, redis } = ctx;
    await tripToHalfOpen(ctx);
    expect(await breaker.record(name, allowed(await breaker.acquire(name)), 'success')).toBe('closed');
    expect(await redis.exists(redisKey('breaker', name))).toBe(0);
    expect(await breaker.acquire(name)).toMatchObject({
      allowed: true,
      probe: false,
      state: 'closed',
      failures: 0,
    });
    expect(await failCalls(breaker, name, 2)).toBe('closed');
  });

  it('neither closes nor re-opens when the probe is released, and lets the next caller probe at once', async () => {
    const ctx = setup();
    const { breaker, name } = ctx;
    await tripToHalfOpen(ctx);
    const probe = allowed(await breaker.acquire(name));
    expect(probe.probe).toBe(true);
    // While it holds the lease, nobody else probes.
    expect(await breaker.acquire(name)).toMatchObject({ allowed: false });
    expect(await breaker.record(name, probe, 'release')).toBe('half_open');
    expect(await breaker.inspect(name)).toMatchObject({
      state: 'half_open',
      failures: OPTIONS.failureThreshold,
    });
    const next = allowed(await breaker.acquire(name));
    expect(next.probe).toBe(true);
    // A stale release of the first probe gives up nothing that is not its own.
    expect(await breaker.record(name, probe, 'release')).toBe('half_open');
    expect(await breaker.acquire(name)).toMatchObject({ allowed: false });
    // On a closed breaker a release changes nothing: the failure count stands.
    const closed = setup();
    await failCalls(closed.breaker, closed.name, 2);
    const permit = allowed(await closed.breaker.acquire(closed.name));
    expect(await closed.breaker.record(closed.name, permit, 'release')).toBe('closed');
    expect(await failCalls(closed.breaker, closed.name, 1)).toBe('open');
  });

  it('re-opens for a fresh openSeconds when the probe fails', async () => {
    const ctx = setup();
    const { breaker, clock, name } = ctx;
    await tripToHalfOpen(ctx);
    clock.ms += 5000;
    const probe = allowed(await breaker.acquire(name));
    clock.ms += 4000;
    expect(await breaker.record(name, probe, 'failure')).toBe('open');
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 60 });
    clock.ms += 59_999;
    expect(await breaker.acquire(name)).toMatchObject({ allowed: false, state: 'open' });
    clock.ms += 1;
    expect(await breaker.acquire(name)).toMatchObject({ allowed: true, probe: true });
  });

  it('lets a new probe through when the previous probe’s lease expires, and ignores the stale probe', async () => {
    const ctx = setup();
    const { breaker, clock, name } = ctx;
    await tripToHalfOpen(ctx);
    const stale = allowed(await breaker.acquire(name));
    clock.ms += 9999;
    expect(await breaker.acquire(name)).toMatchObject({
      allowed: false,
      state: 'half_open',
      retryAfterSeconds: 1,
    });
    clock.ms += 1;
    const fresh = allowed(await breaker.acquire(name));
    expect(fresh).toMatchObject({ probe: true, state: 'half_open' });
    expect(fresh.probeId).not.toBe(stale.probeId);
    // The stale probe's report is a non-probe report now: it neither closes nor re-opens.
    expect(await breaker.record(name, stale, 'success')).toBe('half_open');
    expect(await breaker.acquire(name)).toMatchObject({ allowed: false, state: 'half_open' });
    expect(await breaker.record(name, stale, 'failure')).toBe('half_open');
    expect(await breaker.record(name, fresh, 'success')).toBe('closed');
  });

  it('counts a non-probe failure while half-open without touching the probe or the state', async () => {
    const ctx = setup();
    const { breaker, name } = ctx;
    const late = allowed(await breaker.acquire(name));
    await tripToHalfOpen(ctx);
    const probe = allowed(await breaker.acquire(name));
    expect(await breaker.record(name, late, 'failure')).toBe('half_open');
    expect(await breaker.inspect(name)).toMatchObject({ state: 'half_open', failures: 4 });
    expect(await breaker.acquire(name)).toMatchObject({ allowed: false, state: 'half_open' });
    expect(await breaker.record(name, probe, 'success')).toBe('closed');
  });
});

describe('createBreaker: throttled', () => {
  it('refuses every caller until the wait a throttle named, throttled and with no failure counted', async () => {
    const { breaker, clock, name } = setup();
    await failCalls(breaker, name, 2);
    const permit = allowed(await breaker.acquire(name));
    expect(await breaker.record(name, permit, 'throttle', 2500)).toBe('closed');
    expect(await breaker.acquire(name)).toEqual({
      allowed: false,
      state: 'closed',
      retryAfterSeconds: 3,
      throttled: true,
    });
    // A shorter wait reported later does not shorten it.
    expect(await breaker.record(name, permit, 'throttle', 100)).toBe('closed');
    clock.ms += 2499;
    expect(await breaker.acquire(name)).toMatchObject({
      allowed: false,
      throttled: true,
      retryAfterSeconds: 1,
    });
    clock.ms += 1;
    expect(await breaker.acquire(name)).toMatchObject({ allowed: true, state: 'closed', failures: 2 });
    expect(await breaker.inspect(name)).toMatchObject({ state: 'closed', failures: 2 });
  });

  it('gives a throttled probe back: half-open again once the wait has passed, with nobody holding the lease', async () => {
    const ctx = setup();
    const { breaker, clock, name } = ctx;
    await tripToHalfOpen(ctx);
    const probe = allowed(await breaker.acquire(name));
    expect(probe.probe).toBe(true);
    expect(await breaker.record(name, probe, 'throttle', 1000)).toBe('half_open');
    expect(await breaker.acquire(name)).toMatchObject({
      allowed: false,
      state: 'half_open',
      throttled: true,
    });
    clock.ms += 1000;
    expect(await breaker.acquire(name)).toMatchObject({ allowed: true, probe: true, state: 'half_open' });
  });

  it('refuses as open, not throttled, while the open window lasts', async () => {
    const { breaker, name } = setup();
    const permit = allowed(await breaker.acquire(name));
    await failCalls(breaker, name, OPTIONS.failureThreshold);
    await breaker.record(name, permit, 'throttle', 120_000);
    expect(await breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 60 });
  });
});

describe('createBreaker: storage', () => {
  it('treats a missing key as closed and keeps a written key for a day after its last change', async () => {
    const { breaker, name, redis } = setup();
    expect(await breaker.inspect(name)).toEqual({ state: 'closed', failures: 0, retryAfterSeconds: 0 });
    await failCalls(breaker, name, 3);
    const ttl = await redis.ttl(redisKey('breaker', name));
    expect(ttl).toBeGreaterThan(86_400);
    expect(ttl).toBeLessThanOrEqual(86_400 + 60);
  });

  it('writes nothing for a success on a closed breaker with no failures', async () => {
    const { breaker, name, redis } = setup();
    expect(await breaker.record(name, allowed(await breaker.acquire(name)), 'success')).toBe('closed');
    expect(await redis.exists(redisKey('breaker', name))).toBe(0);
  });
});
