import { describe, expect, it } from 'vitest';
import type { CacheResult, Produced } from '../../lib/cache';
import { leaseKeyOf } from '../../lib/cache/key';
import { UpstreamTimeoutError } from '../../lib/errors';
import { CACHE_RENEW } from '../../lib/scripts/cache';
import { cacheIsolate as isolate, testCacheKey as testKey } from '../support/cache';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve exposed. */
function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function statuses(results: CacheResult<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

describe('createCache single-flight across isolates', () => {
  it('answers 50 identical concurrent misses from two isolates with 1 generation: 1 MISS, 49 COALESCED', async () => {
    const options = { leaseMs: 10_000, pollMs: 50 };
    const [a, b] = [isolate(options), isolate(options)];
    const key = await testKey();
    let generations = 0;
    const produce = async (): Promise<Produced<{ text: string; n: number }>> => {
      generations++;
      await pause(200);
      return { value: { text: 'Run further', n: generations }, cacheable: true };
    };
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).cache.getOrProduce(key, produce)),
    );
    expect(generations).toBe(1);
    expect(statuses(results)).toEqual({ MISS: 1, COALESCED: 49 });
    const leader = results.find((r) => r.status === 'MISS');
    for (const r of results) {
      expect(r.value).toEqual({ text: 'Run further', n: 1 });
      expect(r.cachedAt).toBe(leader?.cachedAt);
    }
  });

  it('lets a waiter in another isolate take over once a dead leader’s lease expires, generating once', async () => {
    const options = { leaseMs: 400, pollMs: 25, waitMs: 5_000 };
    const [a, b] = [isolate(options), isolate(options)];
    const key = await testKey();
    const leaderStarted = deferred<void>();
    // Isolate A takes the lease and dies: it never finishes, and never renews its lease again.
    void a.cache.getOrProduce(key, () => {
      leaderStarted.resolve();
      return new Promise<Produced<string>>(() => {});
    });
    await leaderStarted.promise;
    a.cut(true);
    const started = Date.now();
    let generations = 0;
    const produce = async (): Promise<Produced<string>> => {
      generations++;
      await pause(50);
      return { value: 'taken over', cacheable: true };
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => b.cache.getOrProduce(key, produce)));
    const elapsed = Date.now() - started;
    expect(generations).toBe(1);
    expect(statuses(results)).toEqual({ MISS: 1, COALESCED: 4 });
    expect(results.map((r) => r.value)).toEqual(Array(5).fill('taken over'));
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('keeps a live leader’s lease however long it generates: 20 waiters, one generation, renewed on the way', async () => {
    // A lease of 2.4 s, renewed every 0.8 s, and a generation of twice that: without renewal a waiter
    // takes over. (A busy test runtime can stall an isolate's timers for over a second, so shorter
    // leases would test the machine, not the renewal.)
    const options = { leaseMs: 2_400, pollMs: 50, waitMs: 10_000 };
    const [a, b] = [isolate(options), isolate(options)];
    const key = await testKey();
    const leaderStarted = deferred<void>();
    let generations = 0;
    const produce = async (): Promise<Produced<string>> => {
      generations++;
      leaderStarted.resolve();
      await pause(5_000);
      return { value: 'slow creative', cacheable: true };
    };
    const leader = a.cache.getOrProduce(key, produce);
    await leaderStarted.promise;
    const waiters = await Promise.all(Array.from({ length: 20 }, () => b.cache.getOrProduce(key, produce)));
    expect(await leader).toMatchObject({ value: 'slow creative', status: 'MISS' });
    expect(generations).toBe(1);
    expect(statuses(waiters)).toEqual({ COALESCED: 20 });
    const renewals = a.requests.flat().filter((cmd) => (cmd as unknown[])[1] === CACHE_RENEW.sha1);
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    // The renewals stopped with the generation: the lease is gone, the entry stored.
    expect(await b.redis.exists(leaseKeyOf(key))).toBe(0);
  });

  it('stops renewing a lease its holder never finishes once a waiter would have given up, so it runs out', async () => {
    const a = isolate({ leaseMs: 300, pollMs: 25, waitMs: 600 });
    const key = await testKey();
    // Granted, and then forgotten: no getOrProduce, release or store ever finishes it.
    expect(await a.cache.lookup(key)).toMatchObject({ kind: 'lead' });
    let gone = false;
    for (let waited = 0; waited < 5_000 && !gone; waited += 100) {
      await pause(100);
      gone = (await a.redis.exists(leaseKeyOf(key))) === 0;
    }
    expect(gone).toBe(true);
  });

  it('keeps a leader that outlived its lease from freeing its successor’s lease', async () => {
    const options = { leaseMs: 300, pollMs: 25, waitMs: 5_000 };
    const a = isolate(options);
    const b = isolate(options);
    const key = await testKey();
    const late = deferred<Produced<string>>();
    const leaderStarted = deferred<void>();
    const lateLeader = a.cache.getOrProduce(key, () => {
      leaderStarted.resolve();
      return late.promise;
    });
    await leaderStarted.promise;
    // A loses Redis for longer than its lease: its renewals fail and the lease expires.
    a.cut(true);
    const successorStarted = deferred<void>();
    const successorDone = deferred<Produced<string>>();
    const successor = b.cache.getOrProduce(key, () => {
      successorStarted.resolve();
      return successorDone.promise;
    });
    await successorStarted.promise;
    a.cut(false);
    const lease = await b.redis.get<string>(leaseKeyOf(key));
    expect(lease).toMatch(/^lease_/);

    late.resolve({ value: 'late and unapproved', cacheable: false });
    expect(await lateLeader).toEqual({ value: 'late and unapproved', status: 'MISS' });
    expect(await b.redis.get(leaseKeyOf(key))).toBe(lease);

    successorDone.resolve({ value: 'fresh', cacheable: true });
    expect(await successor).toMatchObject({ value: 'fresh', status: 'MISS' });
    expect(await b.redis.exists(leaseKeyOf(key))).toBe(0);
  });

  it('hands over at once when the leader throws: followers need not wait out the lease, nothing is cached', async () => {
    const options = { leaseMs: 10_000, pollMs: 25 };
    const [a, b] = [isolate(options), isolate(options)];
    const key = await testKey();
    const failure = new Error('upstream 500');
    let generations = 0;
    const produce = async (): Promise<Produced<string>> => {
      generations++;
      await pause(100);
      if (generations === 1) throw failure;
      return { value: 'second try', cacheable: true };
    };
    const started = Date.now();
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).cache.getOrProduce(key, produce)),
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(generations).toBe(2);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([{ status: 'rejected', reason: failure }]);
    const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    expect(statuses(results)).toEqual({ MISS: 1, COALESCED: 8 });
    for (const r of results) expect(r.value).toBe('second try');
  });

  it('under a persistent failure lets each waiter generate once, one at a time, and caches nothing', async () => {
    const options = { leaseMs: 10_000, pollMs: 25 };
    const [a, b] = [isolate(options), isolate(options)];
    const key = await testKey();
    let running = 0;
    let mostAtOnce = 0;
    let generations = 0;
    const produce = async (): Promise<Produced<string>> => {
      generations++;
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await pause(50);
      running--;
      throw new Error('still down');
    };
    const started = Date.now();
    const settled = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) => (i % 2 ? a : b).cache.getOrProduce(key, produce)),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(settled.map((s) => s.status)).toEqual(Array(4).fill('rejected'));
    expect(generations).toBe(4);
    expect(mostAtOnce).toBe(1);
    expect(await a.cache.get(key)).toBeNull();
    expect(await a.redis.exists(leaseKeyOf(key))).toBe(0);
  });

  it('hands over when the leader’s value is uncacheable: each waiter generates for itself', async () => {
    const options = { leaseMs: 10_000, pollMs: 25 };
    const [a, b] = [isolate(options), isolate(options)];
    const key = await testKey();
    let generations = 0;
    const produce = async (): Promise<Produced<string>> => {
      generations++;
      await pause(30);
      return { value: `draft ${generations}`, cacheable: false };
    };
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 3 }, (_, i) => (i % 2 ? a : b).cache.getOrProduce(key, produce)),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(statuses(results)).toEqual({ MISS: 3 });
    expect(results.map((r) => r.value).sort()).toEqual(['draft 1', 'draft 2', 'draft 3']);
    expect(await a.cache.get(key)).toBeNull();
  });

  it('gives up with UpstreamTimeoutError after waitMs while another leader holds a longer lease', async () => {
    const b = isolate({ leaseMs: 200, pollMs: 25, waitMs: 300 });
    const key = await testKey();
    await b.redis.set(leaseKeyOf(key), 'lease_elsewhere', { px: 5_000 });
    let generations = 0;
    const started = Date.now();
    const waiting = b.cache.getOrProduce(key, async () => {
      generations++;
      return { value: 'never', cacheable: true };
    });
    await expect(waiting).rejects.toBeInstanceOf(UpstreamTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(generations).toBe(0);
    await b.redis.del(leaseKeyOf(key));
  });
});
