/** A settle and the budget alerts it crosses: each threshold fires once a day across all isolates. */
import type { BudgetAlert } from '../alerts';
import type { Budget, Nanos, Reservation } from '../budget';
import type { Logger } from '../log';
import { nanosToUsd } from '../pricing';

/** The gateway-wide alert thresholds: the alert level, then the whole budget. */
export interface AlertThresholds {
  alertThresholdNanos: Nanos;
  limitNanos: Nanos;
}

/**
 * Records `actual` against a reservation and sends the alerts this settle crossed first (each threshold
 * fires once a day across all isolates). Rejects when the budget store is unavailable.
 */
export async function settleWithAlerts(
  deps: {
    alert: (alert: BudgetAlert) => Promise<void>;
    log: Pick<Logger, 'error'>;
    budget: Pick<Budget, 'settle'>;
  },
  thresholds: AlertThresholds,
  reservation: Reservation,
  actual: Nanos,
): Promise<void> {
  const result = await deps.budget.settle(reservation, actual, {
    alertThresholds: [thresholds.alertThresholdNanos, thresholds.limitNanos],
  });
  if (result.overrun)
    deps.log.error('spend exceeded its reservation', { reserved: reservation.amount, actual });
  for (const threshold of result.crossed) {
    await deps.alert({
      day: result.day,
      level: threshold >= thresholds.limitNanos ? 'limit' : 'threshold',
      thresholdUsd: nanosToUsd(threshold),
      spentUsd: nanosToUsd(result.spentNanos),
      limitUsd: nanosToUsd(thresholds.limitNanos),
    });
  }
}
