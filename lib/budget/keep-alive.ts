import type { Logger } from '../log';
import { renewLease } from '../renew-lease';
import type { Budget, Reservation } from './types';

/**
 * Renews `reservation`'s lease every third of `budget.leaseMs` until the returned function stops it,
 * for a call that may outlive its lease (a 32k-token stream at tens of tokens a second): its headroom
 * stays held, and no sweep charges it while it runs (#14). See renewLease. One that finds the lease
 * ended stops renewing: the lease expired and was charged in full, and the call's settle corrects that
 * charge.
 */
export function keepLeaseAlive(
  budget: Pick<Budget, 'renew' | 'leaseMs'>,
  reservation: Reservation,
  log: Pick<Logger, 'warn'>,
): () => void {
  return renewLease(budget.leaseMs, () => budget.renew(reservation), {
    failed: (cause) => log.warn('budget lease renewal failed; retried at the next tick', { cause }),
    lost: () =>
      log.warn(
        'budget lease ended while its call was running; it was charged, and its settle corrects that',
        {
          reservation: reservation.id,
        },
      ),
  });
}
