/**
 * Rate limiters (@upstash/ratelimit) built once per Redis client, denial cache and configuration, not
 * once per request: a `Ratelimit` is a graph of closures, and its client and cache are the isolate's
 * (lib/deps.ts), so one instance serves every request of the isolate. It keeps no other state, as long
 * as `ephemeralCache` is given (a map, or `false`): left unset, it remembers denials in a map of its own.
 *
 * Every limiter is single-region (a `Ratelimit`, not a `MultiRegionRatelimit`), a sliding window or a
 * token bucket, without analytics or deny lists (`enableProtection`), so the SDK answers each decision
 * with its `pending` already resolved: callers hand nothing to `waitUntil` (a native call and its promise
 * per limit, on every request). `sharedLimiter` refuses a multi-region limiter and one with analytics or
 * deny lists, whose writes after the decision would need it; `cachedFixedWindow` (whose `pending` is its
 * increment) must not be used here either.
 */
import { Ratelimit } from '@upstash/ratelimit';

/** Configurations kept per client and cache: key limits differ by key, so this bounds a key flood. */
const MAX_CONFIGS = 256;

const NO_CACHE = {};
const built = new WeakMap<object, WeakMap<object, Map<string, Ratelimit>>>();

/**
 * The limiter of `config` (every option that shapes it, as a string) over `redis` and `cache`, built by
 * `build` the first time.
 */
export function sharedLimiter(
  redis: object,
  cache: Map<string, number> | undefined,
  config: string,
  build: () => Ratelimit,
): Ratelimit {
  let byCache = built.get(redis);
  if (!byCache) {
    byCache = new WeakMap();
    built.set(redis, byCache);
  }
  let byConfig = byCache.get(cache ?? NO_CACHE);
  if (!byConfig) {
    byConfig = new Map();
    byCache.set(cache ?? NO_CACHE, byConfig);
  }
  let limiter = byConfig.get(config);
  if (!limiter) {
    // The oldest configuration goes first; rebuilding it later costs only what this saves.
    if (byConfig.size >= MAX_CONFIGS) byConfig.delete(byConfig.keys().next().value ?? '');
    limiter = build();
    const { analytics, enableProtection } = limiter as unknown as {
      analytics?: unknown;
      enableProtection?: boolean;
    };
    if (!(limiter instanceof Ratelimit) || analytics || enableProtection)
      throw new Error(
        `Limiter ${config} is multi-region or records analytics or deny lists: its decisions' pending work needs waitUntil.`,
      );
    byConfig.set(config, limiter);
  }
  return limiter;
}
