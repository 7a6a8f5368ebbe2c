import { randomUUID } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { describe, expect, it } from 'vitest';
import { BACKENDS, useBridge } from '../support/node/bridge-fixture.ts';

// @upstash/ratelimit ≥ 2.1 sends `#!lua flags=allow-key-locking` scripts, which stock Redis rejects;
// the bridge strips the flag and maps the client's hard-coded SHAs (reference §1.10, SRH issue #40).

type Limiter = ConstructorParameters<typeof Ratelimit>[0]['limiter'];

// Windows of an hour keep a test from straddling a window boundary.
const ALGORITHMS: { name: string; limiter: Limiter }[] = [
  { name: 'slidingWindow', limiter: Ratelimit.slidingWindow(3, '1 h') },
  { name: 'fixedWindow', limiter: Ratelimit.fixedWindow(3, '1 h') },
  { name: 'tokenBucket', limiter: Ratelimit.tokenBucket(1, '1 h', 3) },
];

describe.each(BACKENDS)('bridge on $name, through @upstash/ratelimit', ({ options }) => {
  const token = `ratelimit-${randomUUID()}`;

  const bridge = useBridge({ ...options, token, log: () => {} });

  const limiterFor = (limiter: Limiter) =>
    new Ratelimit({
      redis: new Redis({ url: bridge().url, token }),
      limiter,
      prefix: `test:bridge-ratelimit:${randomUUID()}`,
      ephemeralCache: false,
    });

  describe.each(ALGORITHMS)('$name', ({ limiter }) => {
    it('allows 3 calls per identifier, then denies, with remaining counting down', async () => {
      const ratelimit = limiterFor(limiter);
      const id = randomUUID();
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await ratelimit.limit(id));
      expect(results.map((r) => r.success)).toEqual([true, true, true, false, false]);
      expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0, 0]);
      expect(results.every((r) => r.limit === 3 && r.reset > Date.now())).toBe(true);
      expect((await ratelimit.limit(randomUUID())).remaining).toBe(2);
    });

    it('reports the remaining budget without consuming it', async () => {
      const ratelimit = limiterFor(limiter);
      const id = randomUUID();
      await ratelimit.limit(id);
      expect((await ratelimit.getRemaining(id)).remaining).toBe(2);
      expect((await ratelimit.getRemaining(id)).remaining).toBe(2);
    });

    it('costs exactly 1 bridge request and 1 Redis command per limit() once the script is known', async () => {
      const ratelimit = limiterFor(limiter);
      const id = randomUUID();
      // Warm-up: EVALSHA of the original SHA (NOSCRIPT unless an earlier test mapped it), then EVAL.
      const warm = bridge().stats().requests;
      await ratelimit.limit(id);
      expect(bridge().stats().requests - warm).toBeLessThanOrEqual(2);

      const before = bridge().stats();
      const result = await ratelimit.limit(id);
      const after = bridge().stats();
      expect(result.success).toBe(true);
      expect(after.requests - before.requests).toBe(1);
      expect(after.commands - before.commands).toBe(1);
    });
  });

  it('answers EVALSHA with the hard-coded SHA of a flagged script after one EVAL of it', async () => {
    const redis = new Redis({ url: bridge().url, token });
    const flagged = `#!lua flags=allow-key-locking\n-- ${randomUUID()}\nreturn tonumber(ARGV[1]) * 2`;
    const script = redis.createScript<number>(flagged);
    await expect(script.evalsha([], ['21'])).rejects.toThrow(/NOSCRIPT/);
    expect(await script.eval([], ['21'])).toBe(42);
    const before = bridge().stats().requests;
    expect(await script.exec([], ['4'])).toBe(8);
    expect(bridge().stats().requests - before).toBe(1);
  });
});
