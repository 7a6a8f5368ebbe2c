import { describe, expect, it } from 'vitest';
import { type BreakerPermit, createBreaker } from '../../lib/breaker';
import { BREAKER_ACQUIRE, BREAKER_RECORD } from '../../lib/scripts/breaker';
import type { LuaScript } from '../../lib/scripts/run';
import { redisKey } from '../../lib/store';
import { countingClient } from '../support/redis';

// Breakers built from separate Redis clients stand in for separate isolates sharing one Redis.
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const OPTIONS = { failureThreshold: 2, openSeconds: 30, probeLeaseMs: 5000 };

function isolate(clock: { ms: number }, url?: string) {
  const client = countingClient(url);
  const warnings: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
  const log = {
    warn: (msg: string, fields?: Record<string, unknown>) => void warnings.push({ msg, fields }),
  };
  const breaker = createBreaker({ redis: client.redis, now: () => clock.ms, log }, OPTIONS);
  return { breaker, warnings, ...client };
}

/** The wire form of one EVALSHA of `script` on the breaker `name` with `argc` arguments. */
function evalsha(script: LuaScript, name: string, argc: number) {
  return ['evalsha', script.sha1, 1, redisKey('breaker', name), ...Array(argc).fill(expect.anything())];
}

function allowed(permit: BreakerPermit): BreakerPermit & { allowed: true } {
  if (!permit.allowed) throw new Error(`expected an allowed permit, got ${JSON.stringify(permit)}`);
  return permit;
}

describe('createBreaker across isolates', () => {
  it('shows a trip recorded by one isolate to the next acquire of another', async () => {
    const clock = { ms: T0 };
    const [a, b] = [isolate(clock), isolate(clock)];
    const name = `test:${crypto.randomUUID()}`;
    expect(await a.breaker.record(name, allowed(await a.breaker.acquire(name)), 'failure')).toBe('closed');
    expect(await b.breaker.record(name, allowed(await b.breaker.acquire(name)), 'failure')).toBe('open');
    expect(await a.breaker.acquire(name)).toEqual({ allowed: false, state: 'open', retryAfterSeconds: 30 });
    expect(await b.breaker.inspect(name)).toEqual({ state: 'open', failures: 2, retryAfterSeconds: 30 });
  });

  it('lets exactly one of 20 concurrent half-open acquires from two isolates probe and refuses 19', async () => {
    const clock = { ms: T0 };
    const [a, b] = [isolate(clock), isolate(clock)];
    const name = `test:${crypto.randomUUID()}`;
    for (let i = 0; i < OPTIONS.failureThreshold; i++) {
      await a.breaker.record(name, allowed(await a.breaker.acquire(name)), 'failure');
    }
    clock.ms += OPTIONS.openSeconds * 1000;
    const permits = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).breaker.acquire(name)),
    );
    expect(permits.filter((p) => p.allowed)).toEqual([
      expect.objectContaining({ allowed: true, probe: true, state: 'half_open' }),
    ]);
    const refused = permits.filter((p) => !p.allowed);
    expect(refused).toHaveLength(19);
    for (const p of refused) expect(p).toEqual({ allowed: false, state: 'half_open', retryAfterSeconds: 5 });
  });
});

describe('createBreaker round trips', () => {
  it('sends one EVALSHA in one HTTP request per acquire and per record, and none for a healthy success', async () => {
    const clock = { ms: T0 };
    const { breaker, requests } = isolate(clock);
    const name = `test:${crypto.randomUUID()}`;
    // Warm-up: the first run may meet NOSCRIPT (a fresh Redis) and send the source once.
    await breaker.record(name, allowed(await breaker.acquire(name)), 'failure');
    requests.length = 0;

    const permit = allowed(await breaker.acquire(name));
    expect(requests).toEqual([[evalsha(BREAKER_ACQUIRE, name, 4)]]);
    expect(await breaker.record(name, permit, 'success')).toBe('closed');
    expect(requests).toEqual([[evalsha(BREAKER_ACQUIRE, name, 4)], [evalsha(BREAKER_RECORD, name, 7)]]);

    const healthy = allowed(await breaker.acquire(name));
    expect(await breaker.record(name, healthy, 'success')).toBe('closed');
    expect(requests).toHaveLength(3);
  });
});

describe('createBreaker without Redis', () => {
  it('fails open with degraded: true when Redis is unreachable, and record does not throw', async () => {
    const clock = { ms: T0 };
    const { breaker, warnings } = isolate(clock, 'http://127.0.0.1:9');
    const name = `test:${crypto.randomUUID()}`;
    const permit = allowed(await breaker.acquire(name));
    expect(permit).toMatchObject({ allowed: true, probe: false, state: 'closed', degraded: true });
    await expect(breaker.record(name, permit, 'failure')).resolves.toBe('closed');
    await expect(breaker.record(name, { ...permit, failures: 3 }, 'success')).resolves.toBe('closed');
    expect(warnings.map((w) => w.msg)).toEqual([
      'breaker store unavailable; allowing the call',
      'breaker store unavailable; outcome not recorded',
      'breaker store unavailable; outcome not recorded',
    ]);
    expect(warnings[0]?.fields).toMatchObject({ breaker: name, error: expect.any(Error) });
    await expect(breaker.inspect(name)).rejects.toThrow();
  });

  it('fails open when Redis answers with an error for the breaker key', async () => {
    const clock = { ms: T0 };
    const { breaker, redis, warnings } = isolate(clock);
    const name = `test:${crypto.randomUUID()}`;
    // A string where the hash should be makes every script run fail with WRONGTYPE.
    await redis.set(redisKey('breaker', name), 'not a hash', { ex: 60 });
    const permit = allowed(await breaker.acquire(name));
    expect(permit).toMatchObject({ allowed: true, probe: false, degraded: true });
    await expect(breaker.record(name, permit, 'failure')).resolves.toBe('closed');
    expect(warnings).toHaveLength(2);
    expect(String(warnings[0]?.fields?.error)).toContain('WRONGTYPE');
  });
});
