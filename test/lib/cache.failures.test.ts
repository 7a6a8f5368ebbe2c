import { describe, expect, it } from 'vitest';
import type { CacheOptions } from '../../lib/cache';
import { leaseKeyOf } from '../../lib/cache/key';
import { cacheIsolate, testCacheKey as testKey } from '../support/cache';

// The cache fails open: whatever Redis does, the caller still gets a generated value. These caches
// record each warning with its fields.
function isolate(url?: string, options: Partial<CacheOptions> = { leaseMs: 10_000, pollMs: 25 }) {
  const warnings: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
  const log = {
    warn: (msg: string, fields?: Record<string, unknown>) => void warnings.push({ msg, fields }),
  };
  return { ...cacheIsolate(options, { url, log }), warnings };
}

describe('createCache without Redis', () => {
  it('generates anyway (BYPASS, degraded) when Redis is unreachable, and logs why', async () => {
    const { cache, warnings, requests } = isolate('http://127.0.0.1:9');
    const key = await testKey();
    let generations = 0;
    const result = await cache.getOrProduce(key, async () => {
      generations++;
      return { value: { headline: 'Run further' }, cacheable: true };
    });
    expect(result).toEqual({ value: { headline: 'Run further' }, status: 'BYPASS', degraded: true });
    expect(generations).toBe(1);
    // One failed lookup, and no write attempted after it.
    expect(requests).toHaveLength(1);
    expect(warnings).toEqual([
      {
        msg: 'cache store unavailable; generating without the cache',
        fields: { cache_key: key, error: expect.any(Error) },
      },
    ]);
  });

  it('still rethrows produce’s own error when Redis is unreachable', async () => {
    const { cache } = isolate('http://127.0.0.1:9');
    const failure = new Error('upstream 500');
    await expect(cache.getOrProduce(await testKey(), () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('reads a miss, drops a write and answers lookups with unavailable, never rejecting', async () => {
    const { cache, warnings } = isolate('http://127.0.0.1:9');
    const key = await testKey();
    expect(await cache.get(key)).toBeNull();
    await expect(cache.set(key, { a: 1 })).resolves.toBeUndefined();
    const found = await cache.lookup(key);
    expect(found).toEqual({ kind: 'unavailable', key, error: expect.any(Error) });
    await expect(cache.release(found)).resolves.toBeUndefined();
    await expect(cache.release({ kind: 'lead', key, leaseId: 'lease_x' })).resolves.toBeUndefined();
    expect(warnings.map((w) => w.msg)).toEqual([
      'cache store unavailable; read as a miss',
      'cache write failed; entry not stored',
      'cache store unavailable; generating without the cache',
      'cache write failed; entry not stored or lease left to expire',
    ]);
  });
});

describe('createCache when Redis answers badly', () => {
  it('generates anyway when the lookup fails with an error reply (WRONGTYPE at the entry)', async () => {
    const { cache, redis, warnings } = isolate();
    const key = await testKey();
    await redis.hset(key, { not: 'an entry' });
    await redis.expire(key, 60);
    const result = await cache.getOrProduce(key, async () => ({ value: 'v', cacheable: true }));
    expect(result).toEqual({ value: 'v', status: 'BYPASS', degraded: true });
    expect(String(warnings[0]?.fields?.error)).toContain('WRONGTYPE');
  });

  it('treats a value it did not write as absent: generates (MISS) and replaces it', async () => {
    const { cache, redis } = isolate();
    const key = await testKey();
    await redis.set(key, '12345', { ex: 60 });
    let generations = 0;
    const produce = async () => ({ value: `v${++generations}`, cacheable: true });
    expect(await cache.getOrProduce(key, produce)).toMatchObject({ value: 'v1', status: 'MISS' });
    expect(await cache.getOrProduce(key, produce)).toMatchObject({ value: 'v1', status: 'HIT' });
  });

  it('generates (BYPASS, degraded) when Redis fails while waiting for another leader', async () => {
    const { cache, redis, warnings } = isolate();
    const key = await testKey();
    await redis.set(leaseKeyOf(key), 'lease_elsewhere', { px: 10_000 });
    // The first lookup goes through (and is told to wait); Redis fails from the next one, the poll's.
    let answered = 0;
    let failing = true;
    redis.use(async (req, next) => {
      if (failing && answered > 0) throw new Error('connection reset');
      const res = await next(req);
      answered++;
      return res;
    });
    let generations = 0;
    const result = await cache.getOrProduce(key, async () => {
      generations++;
      return { value: 'mine', cacheable: true };
    });
    expect(answered).toBe(1);
    expect(result).toEqual({ value: 'mine', status: 'BYPASS', degraded: true });
    expect(generations).toBe(1);
    expect(warnings.map((w) => w.msg)).toEqual(['cache store unavailable; generating without the cache']);
    failing = false;
    await redis.del(leaseKeyOf(key));
  });
});
