/**
 * The cache-first path of a generating route: the caller's cache key in its tenant's namespace,
 * admission and the cache lookup in one Redis round trip, then single-flight production on a miss.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import { type Cache, type CacheKeyParts, type CacheLookup, tenantCacheKey } from './cache';
import { presentedTenant } from './caller';
import type { Capability } from './capabilities';
import { DEGRADED_CACHE_TTL_SECONDS, type MaybeDegraded, type ServedBy } from './generation';
import { type AdmitOptions, admit } from './guards';
import { servedHeaders } from './providers';
import { servicesOf } from './request-services';

const TEXT: readonly Capability[] = ['text'];

/**
 * Admits the request (key, rate limit) and looks the cache up in the same Redis round trip, so a
 * cache hit costs one. A lease the lookup granted is handed back when admission then refuses.
 */
export function admitAndLookUp<T>(
  c: Context<AppEnv>,
  cache: Cache,
  key: string,
  bypass: boolean,
  options: AdmitOptions = {},
): Promise<CacheLookup<T> | undefined> {
  return admitAlong(
    c,
    () => (bypass ? undefined : cache.lookup<T>(key)),
    (lookup) => cache.release(lookup),
    options,
  );
}

/** `admitAndLookUp` for several keys: every lookup joins the same round trip. */
export function admitAndLookUpMany<T>(
  c: Context<AppEnv>,
  cache: Cache,
  keys: string[],
  bypass: boolean,
  options: AdmitOptions = {},
): Promise<CacheLookup<T>[] | undefined> {
  return admitAlong(
    c,
    () => (bypass ? undefined : Promise.all(keys.map((key) => cache.lookup<T>(key)))),
    (lookups) => Promise.all(lookups.map((lookup) => cache.release(lookup))),
    options,
  );
}

/** Admits the request with what `start` sends in the same round trip; `undo` hands it back on a refusal. */
async function admitAlong<R>(
  c: Context<AppEnv>,
  start: () => Promise<R> | undefined,
  undo: (started: R) => Promise<unknown>,
  options: AdmitOptions,
): Promise<R | undefined> {
  let started: Promise<R> | undefined;
  try {
    await admit(
      c,
      async () => {
        started = start();
      },
      options,
    );
  } catch (err) {
    if (started) c.executionCtx.waitUntil(started.then(undo));
    throw err;
  }
  return started;
}

/** Whether the client asked to skip the cache (`cache-control: no-cache`). */
export function wantsFresh(c: Context<AppEnv>): boolean {
  return c.req.header('cache-control')?.toLowerCase().includes('no-cache') ?? false;
}

/** The caller's cache-key builder: the tenant is resolved once, for requests that need many keys. */
export async function presentedTenantKey(
  c: Context<AppEnv>,
): Promise<(parts: Omit<CacheKeyParts, 'namespace'>) => Promise<string>> {
  const tenant = await presentedTenant(c);
  return (parts) => tenantCacheKey(c.get('env'), tenant, parts);
}

/**
 * The cache-first path every generating endpoint takes: the caller's cache key, admission and the
 * cache lookup in one round trip, then single-flight `produce` on a miss. Returns the value and the
 * response headers (`x-cache`, and who served it when this request generated). The route must be one
 * marked `admitsInHandler`. `uses`: the capabilities `produce` calls, which size the lease.
 */
export async function cacheFirst<T extends MaybeDegraded>(
  c: Context<AppEnv>,
  parts: Omit<CacheKeyParts, 'namespace'>,
  /** `cacheable: false`: served to this request only (say, checked by the local moderation layers alone). */
  produce: () => Promise<{ value: T; served: ServedBy; cacheable?: boolean }>,
  uses: readonly Capability[] = TEXT,
): Promise<{ value: T; status: string; headers: Record<string, string> }> {
  const key = await tenantCacheKey(c.get('env'), await presentedTenant(c), parts);
  const cache = servicesOf(c).cache(uses);
  const bypass = wantsFresh(c);
  const first = await admitAndLookUp<T>(c, cache, key, bypass);
  let served: ServedBy | null = null;
  const result = await cache.getOrProduce<T>(
    key,
    async () => {
      const made = await produce();
      served = made.served;
      const ttl = made.value.degraded ? { ttlSeconds: DEGRADED_CACHE_TTL_SECONDS } : {};
      return { value: made.value, cacheable: made.cacheable ?? true, ...ttl };
    },
    { bypass, ...(first ? { first } : {}) },
  );
  const headers = {
    'x-cache': result.status,
    ...(served ? servedHeaders(served) : {}),
    ...(result.value.degraded ? { 'x-gateway-degraded': 'spend-threshold' } : {}),
  };
  return { value: result.value, status: result.status, headers };
}
