/**
 * A cache-first result store with single-flight across isolates: of many identical requests that miss
 * together, exactly one generates (the leader, holding a lease in Redis) and the rest wait for its
 * value (COALESCED). Entries are JSON under canonical keys (lib/cache/key.ts) and carry `cached_at`.
 *
 * Round trips (HTTP requests from one client; a cold script cache adds one EVAL per script, once):
 * - HIT: 1 (the lookup EVALSHA). `lookup` is issued synchronously, so the endpoint can send it in the
 *   same tick as its rate limit (both EVALSHAs then share one pipelined request).
 * - MISS: 1 before `produce` (the same lookup grants the lease), 1 after (store the entry and free the
 *   lease in one script). The write is awaited before the result is returned, so a request that
 *   starts once this one has been answered is a HIT, never a wait on a lease already done with.
 * - COALESCED: the first lookup plus one lookup per `pollMs` until the entry appears.
 * - BYPASS: none before `produce`, 1 after when the value is cacheable.
 *
 * When the leader throws or returns an uncacheable value, it frees its lease at once (nothing is
 * stored), and the next waiter to poll takes the lease and generates for itself; when a leader dies,
 * the lease expires after `leaseMs` and the same happens. A live leader renews its lease every third of
 * `leaseMs` (one round trip each, only for generations that long), so however long a generation takes
 * no second one starts beside it, and a dead leader's waiters take over within one lease. So at most
 * one generation per key runs at a time, and each caller generates at most once: under a persistent
 * upstream failure the waiters retry one after another rather than all at once, and the breaker that
 * wraps `produce` is what makes those retries fail fast. A waiter gives up after `waitMs`.
 *
 * Fails OPEN: when Redis is slow, down or erroring, the caller generates without the cache (status
 * BYPASS, `degraded: true`, nothing stored) and a warning is logged. Errors of `produce` pass through.
 *
 * @example
 * const cache = createCache({ ...deps, log }, options);
 * const key = await cacheKey({ namespace: cacheNamespace({ keyId }), kind: 'creative', version, fields });
 * const [limit, first] = await Promise.all([ratelimit.limit(keyId), cache.lookup<Creative>(key)]);
 * if (!limit.success) { c.executionCtx.waitUntil(cache.release(first)); throw new RateLimitError(…); }
 * const { value, status, cachedAt } = await cache.getOrProduce(key, generate, { first });
 */
import { decodeEntry, encodeEntry } from './cache/entry';
import { leaseKeyOf } from './cache/key';
import { holdLease } from './cache/lease';
import { checkInteger, resolveOptions } from './cache/options';
import type {
  Cache,
  CacheDeps,
  CacheLookup,
  CacheOptions,
  CacheResult,
  GetOrProduceOptions,
  Produced,
} from './cache/types';
import { waitForLeader } from './cache/wait';
import { CACHE_FINISH, CACHE_LOOKUP } from './scripts/cache';
import { runScript } from './scripts/run';

export type { CacheEntry } from './cache/entry';
export {
  type CacheKeyParts,
  cacheKey,
  cacheNamespace,
  canonicalJson,
  leaseKeyOf,
  normaliseText,
  tenantCacheKey,
} from './cache/key';
export type * from './cache/types';

/**
 * Builds the cache over `deps.redis`. Cheap: build one per request with that request's client.
 * @throws RangeError for options that cannot work (a TTL, lease or poll below 1, a wait shorter than
 * the lease plus one poll).
 */
export function createCache(deps: CacheDeps, options: Partial<CacheOptions> = {}): Cache {
  const { ttlSeconds, leaseMs, pollMs, waitMs } = resolveOptions(options);
  const { redis, now, sleep, newId, log } = deps;
  const warn = (msg: string, key: string, error: unknown) => log?.warn(msg, { cache_key: key, error });
  /** The leases this cache's callers hold, each with the function that stops its renewals. */
  const renewing = new Map<string, () => void>();

  async function lookup<T>(key: string): Promise<CacheLookup<T>> {
    const leaseId = newId('lease');
    try {
      // runScript sends its EVALSHA before its first await, so this joins the caller's tick.
      const [code, payload] = await runScript<[number, unknown?]>(
        redis,
        CACHE_LOOKUP,
        [key, leaseKeyOf(key)],
        [leaseId, leaseMs],
      );
      if (code === 1) {
        renewing.set(leaseId, holdLease(redis, key, leaseId, { leaseMs, waitMs, now, warn }));
        return { kind: 'lead', key, leaseId };
      }
      if (code === 2) return { kind: 'wait', key, leaseLeftMs: Math.max(0, Number(payload) || 0) };
      const entry = decodeEntry<T>(payload);
      if (!entry) throw new Error('the cache entry cannot be read');
      return { kind: 'hit', ...entry };
    } catch (error) {
      warn('cache store unavailable; generating without the cache', key, error);
      return { kind: 'unavailable', key, error };
    }
  }

  /** Stores `entry` (unless '') and frees the lease `leaseId` holds (unless ''); never rejects. */
  async function finish(key: string, leaseId: string, entry: string, ttl = ttlSeconds): Promise<void> {
    renewing.get(leaseId)?.();
    renewing.delete(leaseId);
    if (!leaseId && !entry) return;
    try {
      await runScript(redis, CACHE_FINISH, [key, leaseKeyOf(key)], [leaseId, entry, ttl]);
    } catch (error) {
      warn('cache write failed; entry not stored or lease left to expire', key, error);
    }
  }

  /** The JSON entry for `value`, or '' (logged) when it has none. */
  function entryOf<T>(key: string, value: T, cachedAt: number): string {
    try {
      return encodeEntry(value, cachedAt);
    } catch (error) {
      warn('cache value has no JSON form; not stored', key, error);
      return '';
    }
  }

  /** Generates under the lease `leaseId` ('' for none), then stores a cacheable value and frees it. */
  async function lead<T>(
    key: string,
    leaseId: string,
    produce: () => Promise<Produced<T>>,
    status: 'MISS' | 'BYPASS',
  ): Promise<CacheResult<T>> {
    let produced: Produced<T>;
    try {
      produced = await produce();
    } catch (error) {
      await finish(key, leaseId, '');
      throw error;
    }
    const cachedAt = now();
    const entry = produced.cacheable ? entryOf(key, produced.value, cachedAt) : '';
    const ttl = Math.max(1, Math.min(ttlSeconds, Math.floor(produced.ttlSeconds ?? ttlSeconds)));
    await finish(key, leaseId, entry, ttl);
    return entry ? { value: produced.value, status, cachedAt } : { value: produced.value, status };
  }

  return {
    async get<T>(key: string) {
      try {
        return decodeEntry<T>(await redis.get(key));
      } catch (error) {
        warn('cache store unavailable; read as a miss', key, error);
        return null;
      }
    },

    async set(key, value, ttl = ttlSeconds) {
      checkInteger('ttlSeconds', ttl, 1);
      const entry = encodeEntry(value, now());
      try {
        await redis.set(key, entry, { ex: ttl });
      } catch (error) {
        warn('cache write failed; entry not stored', key, error);
      }
    },

    lookup,

    async release(found) {
      if (found.kind === 'lead') await finish(found.key, found.leaseId, '');
    },

    async store(key, value, held) {
      const leaseId = held?.kind === 'lead' && held.key === key ? held.leaseId : '';
      await finish(key, leaseId, entryOf(key, value, now()));
    },

    async getOrProduce<T>(
      key: string,
      produce: () => Promise<Produced<T>>,
      { bypass = false, first }: GetOrProduceOptions<T> = {},
    ): Promise<CacheResult<T>> {
      if (bypass) {
        const held = first ? await first : undefined;
        return lead(key, held?.kind === 'lead' ? held.leaseId : '', produce, 'BYPASS');
      }
      const looked = await (first ?? lookup<T>(key));
      const { found, waited } = await waitForLeader(looked, () => lookup<T>(key), {
        now,
        sleep,
        pollMs,
        waitMs,
      });
      if (found.kind === 'hit') {
        return { value: found.value, status: waited ? 'COALESCED' : 'HIT', cachedAt: found.cachedAt };
      }
      if (found.kind === 'lead') return lead(key, found.leaseId, produce, 'MISS');
      const { value } = await produce();
      return { value, status: 'BYPASS', degraded: true };
    },
  };
}
