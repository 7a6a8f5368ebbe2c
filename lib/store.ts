import type { Redis } from '@upstash/redis/cloudflare';

/** Every key the gateway writes starts with this; bump the version to abandon an incompatible layout. */
export const KEY_PREFIX = 'gw:v1:';

/** Builds a namespaced Redis key: `redisKey('budget', '2026-11-27')` → `gw:v1:budget:2026-11-27`. */
export function redisKey(...parts: (string | number)[]): string {
  return KEY_PREFIX + parts.join(':');
}

export type { Redis };

/** Whether shared state answers, and how long one round trip took. Never throws. */
export async function pingStore(
  redis: Pick<Redis, 'ping'>,
  now: () => number,
): Promise<{ ok: boolean; latencyMs: number }> {
  const started = now();
  try {
    const ok = (await redis.ping()) === 'PONG';
    return { ok, latencyMs: now() - started };
  } catch {
    return { ok: false, latencyMs: now() - started };
  }
}
