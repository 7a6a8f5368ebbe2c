import { renewLease } from '../renew-lease';
import { CACHE_RENEW } from '../scripts/cache';
import { runScript } from '../scripts/run';
import { leaseKeyOf } from './key';
import type { CacheDeps } from './types';

/** What holding a lease needs: its length, the longest a waiter waits, the clock and the log. */
interface LeaseTerms {
  leaseMs: number;
  waitMs: number;
  now: () => number;
  warn: (msg: string, key: string, error: unknown) => void;
}

/**
 * Keeps the single-flight lease `leaseId` holds on `key` alive; returns the function that stops it.
 * From the moment it is granted until it is finished, however long the leader works before and
 * during its generation, the lease holds while this leader lives (see renewLease); but never longer
 * than a waiter waits, so a lease its holder forgot to finish still runs out.
 */
export function holdLease(
  redis: CacheDeps['redis'],
  key: string,
  leaseId: string,
  { leaseMs, waitMs, now, warn }: LeaseTerms,
): () => void {
  /** Extends the lease by `leaseMs`; false when it is no longer this holder's. */
  const renew = async () =>
    (await runScript<number>(redis, CACHE_RENEW, [leaseKeyOf(key)], [leaseId, leaseMs])) === 1;
  const until = now() + waitMs;
  let overdue = false;
  const renewal = () => {
    overdue = now() >= until;
    return overdue ? Promise.resolve(false) : renew();
  };
  return renewLease(leaseMs, renewal, {
    failed: (error) => warn('cache lease renewal failed; retried at the next tick', key, error),
    lost: () =>
      overdue
        ? warn('cache lease held longer than any waiter waits; no longer renewed', key, null)
        : warn('cache lease lost while generating; another caller may generate too', key, null),
  });
}
