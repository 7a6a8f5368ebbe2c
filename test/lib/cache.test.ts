import { describe, expect, it } from 'vitest';
import { type CacheOptions, createCache, type Produced } from '../../lib/cache';
import { leaseKeyOf } from '../../lib/cache/key';
import { CACHE_FINISH, CACHE_LOOKUP } from '../../lib/scripts/cache';
import { cacheIsolate, testCacheKey as testKey } from '../support/cache';
import { countingClient } from '../support/redis';

const OPTIONS: Partial<CacheOptions> = { ttlSeconds: 600, leaseMs: 10_000, pollMs: 50 };

/** A cache over its own counting client, recording the messages it warns with. */
function isolate(options: Partial<CacheOptions> = OPTIONS) {
  const warnings: string[] = [];
  return { ...cacheIsolate(options, { log: { warn: (msg) => void warnings.push(msg) } }), warnings };
}

/** A produce that counts its calls and returns the values given, one per call. */
function producer<T>(...results: Produced<T>[]) {
  const calls = { count: 0 };
  const produce = async () => {
    const result = results[Math.min(calls.count, results.length - 1)] as Produced<T>;
    calls.count++;
    return result;
  };
  return { calls, produce };
}

describe('createCache get and set', () => {
  it('reads back what set stored, with cached_at, keeping strings that look like numbers as strings', async () => {
    const { cache } = isolate();
    const [k1, k2, k3] = await Promise.all([testKey(), testKey(), testKey()]);
    const value = { sku: '0123', price: '1.50', count: 123, flag: 'true', big: '101600000000150081467' };
    const before = Date.now();
    await Promise.all([cache.set(k1, value), cache.set(k2, '123'), cache.set(k3, [1, '2', null])]);
    const entry = await cache.get<typeof value>(k1);
    expect(entry?.value).toEqual(value);
    expect(entry?.cachedAt).toBeGreaterThanOrEqual(before);
    expect(entry?.cachedAt).toBeLessThanOrEqual(Date.now());
    expect((await cache.get(k2))?.value).toBe('123');
    expect((await cache.get(k3))?.value).toEqual([1, '2', null]);
  });

  it("getOrProduce keeps a value for its own shorter ttlSeconds, never longer than the cache's", async () => {
    const { cache, redis } = isolate();
    const [short, long] = await Promise.all([testKey(), testKey()]);
    await cache.getOrProduce(short, producer({ value: 1, cacheable: true, ttlSeconds: 30 }).produce);
    await cache.getOrProduce(long, producer({ value: 2, cacheable: true, ttlSeconds: 10_000 }).produce);
    const [t1, t2] = await Promise.all([redis.ttl(short), redis.ttl(long)]);
    expect(t1).toBeGreaterThan(25);
    expect(t1).toBeLessThanOrEqual(30);
    expect(t2).toBeGreaterThan(595);
    expect(t2).toBeLessThanOrEqual(600);
  });

  it('sets the TTL given to set, else ttlSeconds, and getOrProduce stores with ttlSeconds', async () => {
    const { cache, redis } = isolate();
    const [k1, k2, k3] = await Promise.all([testKey(), testKey(), testKey()]);
    await cache.set(k1, { a: 1 }, 120);
    await cache.set(k2, { a: 2 });
    await cache.getOrProduce(k3, producer({ value: { a: 3 }, cacheable: true }).produce);
    const [t1, t2, t3] = await Promise.all([redis.ttl(k1), redis.ttl(k2), redis.ttl(k3)]);
    expect(t1).toBeGreaterThan(115);
    expect(t1).toBeLessThanOrEqual(120);
    expect(t2).toBeGreaterThan(595);
    expect(t2).toBeLessThanOrEqual(600);
    expect(t3).toBeGreaterThan(595);
    expect(t3).toBeLessThanOrEqual(600);
  });

  it('reads a missing key and a value it did not write as a miss', async () => {
    const { cache, redis } = isolate();
    const [k1, k2, k3] = await Promise.all([testKey(), testKey(), testKey()]);
    await Promise.all([redis.set(k2, 'plain text', { ex: 60 }), redis.set(k3, '{"x":1}', { ex: 60 })]);
    expect(await Promise.all([cache.get(k1), cache.get(k2), cache.get(k3)])).toEqual([null, null, null]);
  });
});

describe('createCache getOrProduce', () => {
  it('generates on a MISS, then serves a HIT with the same cachedAt without generating again', async () => {
    const { cache } = isolate();
    const key = await testKey();
    const { calls, produce } = producer({ value: { headline: 'Run further' }, cacheable: true });
    const miss = await cache.getOrProduce(key, produce);
    expect(miss).toEqual({
      value: { headline: 'Run further' },
      status: 'MISS',
      cachedAt: expect.any(Number),
    });
    const hit = await cache.getOrProduce(key, produce);
    expect(hit).toEqual({ value: { headline: 'Run further' }, status: 'HIT', cachedAt: miss.cachedAt });
    expect(calls.count).toBe(1);
  });

  it('BYPASS generates without reading and replaces the entry', async () => {
    const { cache } = isolate();
    const key = await testKey();
    await cache.getOrProduce(key, producer({ value: 'old', cacheable: true }).produce);
    const fresh = producer({ value: 'new', cacheable: true });
    const bypassed = await cache.getOrProduce(key, fresh.produce, { bypass: true });
    expect(bypassed).toEqual({ value: 'new', status: 'BYPASS', cachedAt: expect.any(Number) });
    expect(await cache.getOrProduce(key, fresh.produce)).toMatchObject({ value: 'new', status: 'HIT' });
    expect(fresh.calls.count).toBe(1);
  });

  it('does not store an uncacheable value and frees the lease, so the next call generates at once', async () => {
    const { cache, redis } = isolate();
    const key = await testKey();
    const { calls, produce } = producer({ value: 'unapproved', cacheable: false });
    expect(await cache.getOrProduce(key, produce)).toEqual({ value: 'unapproved', status: 'MISS' });
    expect(await redis.exists(key, leaseKeyOf(key))).toBe(0);
    const started = Date.now();
    expect(await cache.getOrProduce(key, produce)).toEqual({ value: 'unapproved', status: 'MISS' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(calls.count).toBe(2);
  });

  it('rethrows the error produce threw, stores nothing, and frees the lease', async () => {
    const { cache, redis } = isolate();
    const key = await testKey();
    const failure = new Error('upstream exploded');
    await expect(cache.getOrProduce(key, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(await redis.exists(key, leaseKeyOf(key))).toBe(0);
    const retry = producer({ value: 'ok', cacheable: true });
    expect(await cache.getOrProduce(key, retry.produce)).toMatchObject({ value: 'ok', status: 'MISS' });
  });

  it('does not store a value without a JSON form, and still returns it', async () => {
    const { cache, redis, warnings } = isolate();
    const key = await testKey();
    const result = await cache.getOrProduce(key, async () => ({ value: { n: 1n }, cacheable: true }));
    expect(result).toEqual({ value: { n: 1n }, status: 'MISS' });
    expect(await redis.exists(key, leaseKeyOf(key))).toBe(0);
    expect(warnings).toEqual(['cache value has no JSON form; not stored']);
  });
});

describe('createCache lookup and release', () => {
  it('grants the lease to the first lookup, tells the next to wait, and release hands it on', async () => {
    const [a, b] = [isolate(), isolate()];
    const key = await testKey();
    const first = await a.cache.lookup(key);
    expect(first).toEqual({ kind: 'lead', key, leaseId: expect.stringMatching(/^lease_/) });
    const second = await b.cache.lookup(key);
    expect(second).toEqual({ kind: 'wait', key, leaseLeftMs: expect.any(Number) });
    if (second.kind !== 'wait') throw new Error('unreachable');
    expect(second.leaseLeftMs).toBeGreaterThan(5_000);
    expect(second.leaseLeftMs).toBeLessThanOrEqual(10_000);
    await a.cache.release(first);
    expect(await b.cache.lookup(key)).toMatchObject({ kind: 'lead' });
  });

  it('store writes an entry and frees the lease its lookup holds in one round trip; a waiter hits it', async () => {
    const [a, b] = [isolate(), isolate()];
    const key = await testKey();
    const held = await a.cache.lookup(key);
    expect(held.kind).toBe('lead');
    a.requests.length = 0;
    await a.cache.store(key, { body: 'streamed' }, held);
    expect(a.requests).toEqual([
      [['evalsha', CACHE_FINISH.sha1, 2, key, leaseKeyOf(key), expect.any(String), expect.any(String), 600]],
    ]);
    expect(await a.redis.exists(leaseKeyOf(key))).toBe(0);
    expect(await b.cache.lookup(key)).toMatchObject({ kind: 'hit', value: { body: 'streamed' } });
  });

  it("store leaves another caller's lease alone", async () => {
    const [a, b] = [isolate(), isolate()];
    const key = await testKey();
    const theirs = await a.cache.lookup(key);
    const mine = await b.cache.lookup(key);
    expect([theirs.kind, mine.kind]).toEqual(['lead', 'wait']);
    await b.cache.store(key, 'v', mine);
    expect(await a.redis.get(leaseKeyOf(key))).toBe(theirs.kind === 'lead' ? theirs.leaseId : '');
    expect(await b.cache.get(key)).toMatchObject({ value: 'v' });
  });

  it('getOrProduce continues from a lookup passed as first without looking up again', async () => {
    const { cache, requests } = isolate();
    const key = await testKey();
    const first = cache.lookup<string>(key);
    const result = await cache.getOrProduce(key, producer({ value: 'v', cacheable: true }).produce, {
      first,
    });
    expect(result.status).toBe('MISS');
    expect(requests.flat().map((command) => (command as unknown[])[0])).toEqual(['evalsha', 'evalsha']);
  });
});

describe('createCache round trips', () => {
  const lookupCommand = (key: string) => [
    'evalsha',
    CACHE_LOOKUP.sha1,
    2,
    key,
    leaseKeyOf(key),
    expect.stringMatching(/^lease_/),
    10_000,
  ];

  it('costs 1 HTTP request for a hit, 1 before produce and 1 after for a miss, 1 for get', async () => {
    const { cache, requests } = isolate();
    const [warm, key] = await Promise.all([testKey(), testKey()]);
    // Warm-up: a fresh Redis answers NOSCRIPT once per script and the source is sent.
    await cache.getOrProduce(warm, producer({ value: 1, cacheable: true }).produce);
    requests.length = 0;

    let beforeProduce = -1;
    await cache.getOrProduce(key, async () => {
      beforeProduce = requests.length;
      return { value: { ok: true }, cacheable: true };
    });
    expect(beforeProduce).toBe(1);
    expect(requests).toEqual([
      [lookupCommand(key)],
      [['evalsha', CACHE_FINISH.sha1, 2, key, leaseKeyOf(key), expect.any(String), expect.any(String), 600]],
    ]);

    requests.length = 0;
    expect((await cache.getOrProduce(key, producer({ value: 0, cacheable: true }).produce)).status).toBe(
      'HIT',
    );
    expect(requests).toEqual([[lookupCommand(key)]]);

    requests.length = 0;
    await cache.get(key);
    expect(requests).toEqual([[['get', key]]]);
  });

  it('sends a lookup in the same HTTP request as the reads and writes issued in the same tick', async () => {
    const { cache, redis, requests } = isolate();
    const [warm, key, counter, auth] = await Promise.all([testKey(), testKey(), testKey(), testKey()]);
    await cache.release(await cache.lookup(warm));
    requests.length = 0;

    // As the endpoint will: the auth read, the rate limit's script and the cache lookup together.
    await Promise.all([redis.hmget(auth, 'id'), redis.incr(counter), cache.lookup(key)]);
    // Reads and writes together (@upstash/redis's auto-pipeline sent the read apart), in the order issued.
    expect(requests).toEqual([[['hmget', auth, 'id'], ['incr', counter], lookupCommand(key)]]);
    await redis.del(counter);
  });
});

describe('createCache options', () => {
  it('rejects options that cannot work', () => {
    const { redis } = countingClient();
    const deps = { redis, now: Date.now, sleep: async () => {}, newId: (p: string) => p };
    expect(() => createCache(deps, { ttlSeconds: 0 })).toThrow(RangeError);
    expect(() => createCache(deps, { leaseMs: 1.5 })).toThrow(RangeError);
    expect(() => createCache(deps, { pollMs: 0 })).toThrow(RangeError);
    expect(() => createCache(deps, { leaseMs: 1000, pollMs: 100, waitMs: 1099 })).toThrow(/waitMs/);
    expect(() => createCache(deps, { leaseMs: 1000, pollMs: 100, waitMs: 1100 })).not.toThrow();
    expect(() => createCache(deps, { leaseMs: 1000 })).not.toThrow();
  });
});
