/** How the response cache's single-flight is sized for a producer, from the settings. */

import type { Capability } from '../capabilities';
import type { Env } from '../env';
import { longestGenerationMs } from '../providers/timeouts';
import type { CacheOptions } from './types';

/** Time a single-flight waiter allows beyond the slowest generation, for the leader's own writes. */
const SINGLE_FLIGHT_WAIT_MARGIN_MS = 5_000;

/**
 * A leader renews its lease while it generates; waiters wait as long as the slowest generation of
 * what the producer `uses` may take, and the leader's writes after it.
 */
export function singleFlightOptions(env: Env, uses: readonly Capability[] = ['text']): CacheOptions {
  // Every cache-first request asks; the env is the isolate's, so each answer is worked out once.
  let byUses = computed.get(env);
  if (!byUses) {
    byUses = new Map();
    computed.set(env, byUses);
  }
  const key = uses.join();
  let options = byUses.get(key);
  if (!options) {
    options = Object.freeze(sized(env, uses));
    byUses.set(key, options);
  }
  return options;
}

const computed = new WeakMap<Env, Map<string, Readonly<CacheOptions>>>();

function sized(env: Env, uses: readonly Capability[]): CacheOptions {
  const longest = longestGenerationMs(env, uses);
  const leaseMs = Math.min(env.CACHE_LEASE_MS, longest);
  return {
    ttlSeconds: env.CACHE_TTL_SECONDS,
    leaseMs,
    pollMs: env.CACHE_POLL_MS,
    waitMs: Math.max(longest, leaseMs + env.CACHE_POLL_MS) + SINGLE_FLIGHT_WAIT_MARGIN_MS,
  };
}
