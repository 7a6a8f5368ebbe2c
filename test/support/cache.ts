import { type CacheDeps, type CacheOptions, cacheKey, cacheNamespace, createCache } from '../../lib/cache';
import { countingClient } from './redis';

/** A cache key in a namespace of its own, so no other test reads or writes its entry. */
export const testCacheKey = () =>
  cacheKey({
    namespace: cacheNamespace({ keyId: `test_${crypto.randomUUID()}` }),
    kind: 'creative',
    version: 'v1',
    fields: { category: 'shoes' },
  });

/**
 * A cache over its own counting Redis client, as one isolate. `cut(true)` makes Redis unreachable from
 * it (every request fails) until `cut(false)`: an isolate that died, or lost its network, mid-work.
 */
export function cacheIsolate(
  options: Partial<CacheOptions>,
  { url, log }: { url?: string; log?: CacheDeps['log'] } = {},
) {
  const client = countingClient(url);
  let unreachable = false;
  client.redis.use((req, next) => (unreachable ? Promise.reject(new Error('Redis unreachable')) : next(req)));
  const deps: CacheDeps = {
    redis: client.redis,
    now: () => Date.now(),
    sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    newId: (prefix) => `${prefix}_${crypto.randomUUID()}`,
    log,
  };
  const cut = (down: boolean) => {
    unreachable = down;
  };
  return { cache: createCache(deps, options), cut, ...client };
}
