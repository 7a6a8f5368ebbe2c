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
  const longest = longestGenerationMs(env, uses);
  const leaseMs = Math.min(env.CACHE_LEASE_MS, longest);
  return {
    ttlSeconds: env.CACHE_TTL_SECONDS,
    leaseMs,
    pollMs: env.CACHE_POLL_MS,
    waitMs: Math.max(longest, leaseMs + env.CACHE_POLL_MS) + SINGLE_FLIGHT_WAIT_MARGIN_MS,
  };
}
