/** Rate limiters shared per isolate: one instance per configuration, none whose decisions leave work. */
import { MultiRegionRatelimit, Ratelimit } from '@upstash/ratelimit';
import { describe, expect, it } from 'vitest';
import { sharedLimiter } from '../../lib/limiters';
import { countingClient } from '../support/redis';

const build = (redis: ReturnType<typeof countingClient>['redis'], cache: Map<string, number>) => () =>
  new Ratelimit({
    redis,
    limiter: Ratelimit.slidingWindow(5, '60 s'),
    prefix: `limiters-test-${crypto.randomUUID()}`,
    ephemeralCache: cache,
    timeout: 0,
    enableTelemetry: false,
  });

describe('sharedLimiter', () => {
  it('builds a configuration once per client and cache', () => {
    const { redis } = countingClient();
    const cache = new Map<string, number>();
    const first = sharedLimiter(redis, cache, 'key:5', build(redis, cache));
    expect(sharedLimiter(redis, cache, 'key:5', build(redis, cache))).toBe(first);
    expect(sharedLimiter(redis, new Map(), 'key:5', build(redis, cache))).not.toBe(first);
    expect(sharedLimiter(redis, cache, 'key:6', build(redis, cache))).not.toBe(first);
  });

  it('answers with a pending that is already resolved, so nobody waits on it after the response', async () => {
    const { redis } = countingClient();
    const cache = new Map<string, number>();
    const limiter = sharedLimiter(redis, cache, 'pending', build(redis, cache));
    const decision = await limiter.limit(`who-${crypto.randomUUID()}`);
    expect(decision.success).toBe(true);
    // Resolved within two microtasks: no Redis write (an analytics record) behind it.
    let resolved = false;
    void decision.pending.then(() => {
      resolved = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(resolved).toBe(true);
  });

  it('refuses a multi-region limiter and one that records analytics or deny lists: their writes would need waitUntil', () => {
    const { redis } = countingClient();
    const cache = new Map<string, number>();
    const withAnalytics = () =>
      new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(5, '60 s'),
        analytics: true,
        enableTelemetry: false,
      });
    expect(() => sharedLimiter(redis, cache, 'analytics', withAnalytics)).toThrow(/waitUntil/);
    const withProtection = () =>
      new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(5, '60 s'),
        enableProtection: true,
        enableTelemetry: false,
      });
    expect(() => sharedLimiter(redis, cache, 'protection', withProtection)).toThrow(/waitUntil/);
    const multiRegion = () =>
      new MultiRegionRatelimit({
        redis: [redis],
        limiter: MultiRegionRatelimit.slidingWindow(5, '60 s'),
      }) as unknown as Ratelimit;
    expect(() => sharedLimiter(redis, cache, 'multi-region', multiRegion)).toThrow(/waitUntil/);
  });
});
