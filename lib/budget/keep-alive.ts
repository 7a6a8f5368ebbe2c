import type { Logger } from '../log';
import type { Budget, Reservation } from './types';

/**
 * Renews `reservation`'s lease every third of `budget.leaseMs` until the returned function stops it,
 * for a call that may outlive its lease (a 32k-token stream at tens of tokens a second): its headroom
 * stays held, and no sweep charges it while it runs (#14). One Redis round trip per renewal, on a
 * timer, never per stream event; a renewal waits for the one before it, so two are never in flight.
 *
 * A renewal that fails (Redis slow or down) is logged and tried again at the next tick, while the lease
 * still has a third to run. (In a Worker the clock only moves across I/O, so a renewal may date itself
 * a little early; its new expiry still lies at least two thirds of a lease ahead.) One that finds the lease ended stops renewing: the lease expired and was
 * charged in full, and the call's settle corrects that charge.
 */
export function keepLeaseAlive(
  budget: Pick<Budget, 'renew' | 'leaseMs'>,
  reservation: Reservation,
  log: Pick<Logger, 'warn'>,
): () => void {
  const everyMs = Math.max(1, Math.floor(budget.leaseMs / 3));
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const renew = async () => {
    const live = await budget.renew(reservation).catch((err: unknown) => {
      log.warn('budget lease renewal failed; retried at the next tick', { cause: err });
      return true;
    });
    if (!live) {
      log.warn(
        'budget lease ended while its call was running; it was charged, and its settle corrects that',
        {
          reservation: reservation.id,
        },
      );
      return;
    }
    schedule();
  };
  const schedule = () => {
    if (!stopped) timer = setTimeout(renew, everyMs);
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
