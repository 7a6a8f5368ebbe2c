import { UpstreamTimeoutError } from '../errors';
import type { CacheDeps, CacheLookup, CacheOptions } from './types';

/** A lookup that no longer says "wait": a hit, this caller's lease, or the store unavailable. */
type Settled<T> = Exclude<CacheLookup<T>, { kind: 'wait' }>;

/**
 * While another caller leads the generation (`found` says "wait"), looks again every `pollMs` until
 * the entry appears or the lease passes to this caller. `waited` tells a COALESCED hit from a plain one.
 * @throws UpstreamTimeoutError once `waitMs` have passed.
 */
export async function waitForLeader<T>(
  found: CacheLookup<T>,
  lookup: () => Promise<CacheLookup<T>>,
  { now, sleep, pollMs, waitMs }: Pick<CacheDeps, 'now' | 'sleep'> & Pick<CacheOptions, 'pollMs' | 'waitMs'>,
): Promise<{ found: Settled<T>; waited: boolean }> {
  const deadline = now() + waitMs;
  let waited = false;
  let current = found;
  while (current.kind === 'wait') {
    const left = deadline - now();
    if (left <= 0) {
      throw new UpstreamTimeoutError({
        message: 'Timed out waiting for an identical request to finish generating. Retry shortly.',
      });
    }
    await sleep(Math.min(pollMs, left));
    waited = true;
    current = await lookup();
  }
  return { found: current, waited };
}
