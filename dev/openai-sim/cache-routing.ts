/**
 * Which cache machine a prompt lands on. OpenAI routes a request by a hash of roughly its first 256 tokens
 * plus `prompt_cache_key`; past about 15 requests a minute for one such route, some requests overflow to
 * other machines, each with its own cache, and miss there (production-realities.md, "Prompt caching").
 * Modelled per account and route: with `n` requests in the last window (this one included) and a threshold
 * of `rpm`, the route spreads over ⌈n / rpm⌉ machines and the n-th request goes to machine (n − 1) mod that
 * count, a deterministic round robin. Under the threshold everything goes to machine 0.
 */
export interface CacheRouter {
  /** Counts one request on `route` for `apiKey` at `nowMs` and names the machine it goes to (0 = home). */
  machineFor(apiKey: string, route: string, nowMs: number, windowMs: number, rpm: number): number;
  /** Forgets the counts of `apiKey`, or all of them. */
  clear(apiKey?: string): void;
}

/** Past this many routes for one account, routes with no request in the window are swept. */
const SWEEP_AT = 10_000;

export function createCacheRouter(): CacheRouter {
  const accounts = new Map<string, Map<string, number[]>>();
  return {
    machineFor(apiKey, route, nowMs, windowMs, rpm) {
      let routes = accounts.get(apiKey);
      if (!routes) {
        routes = new Map();
        accounts.set(apiKey, routes);
      }
      const since = nowMs - windowMs;
      if (!routes.has(route) && routes.size >= SWEEP_AT) {
        for (const [key, times] of routes) if ((times.at(-1) ?? -Infinity) <= since) routes.delete(key);
      }
      const times = routes.get(route) ?? [];
      // Appended in clock order, so the stale ones are at the front.
      while ((times[0] ?? Infinity) <= since) times.shift();
      times.push(nowMs);
      routes.set(route, times);
      const count = times.length;
      if (count <= rpm) return 0;
      return (count - 1) % Math.ceil(count / rpm);
    },
    clear(apiKey) {
      if (apiKey === undefined) accounts.clear();
      else accounts.delete(apiKey);
    },
  };
}
