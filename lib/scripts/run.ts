import type { Redis } from '@upstash/redis/cloudflare';

/** A Lua script kept as a constant with its SHA-1 pinned (a test recomputes it). */
export interface LuaScript {
  name: string;
  source: string;
  sha1: string;
}

/**
 * Runs a script by hash, falling back to sending its source once when Redis does not have it
 * (NOSCRIPT after a restart, a flush, or on a fresh database), as @upstash/ratelimit does.
 */
export async function runScript<T>(
  redis: Pick<Redis, 'evalsha' | 'eval'>,
  script: LuaScript,
  keys: string[],
  args: (string | number)[],
): Promise<T> {
  try {
    return (await redis.evalsha(script.sha1, keys, args)) as T;
  } catch (error) {
    if (!`${error}`.includes('NOSCRIPT')) throw error;
    return (await redis.eval(script.source, keys, args)) as T;
  }
}
