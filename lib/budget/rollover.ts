import type { Budget } from '../budget';
import { budgetDay, shiftDay } from './day';

/**
 * The scheduled rollover: archives the budget day that ended before `scheduledTime` in `timeZone`.
 * Day-keyed counters need no reset (a new day has new keys); the archive charges the leases that
 * expired by the old day's end (its own, and those carried into it from the day before) and gives its
 * keys a retention TTL. Leases still open at its end are carried into the new day, whose reserves
 * count them. Idempotent, so an hourly cron covers any time zone and a late or repeated run changes
 * nothing.
 */
export async function rolloverBudget(budget: Budget, scheduledTime: number, timeZone: string) {
  const finished = shiftDay(budgetDay(scheduledTime, timeZone).day, -1);
  return budget.archiveDay(finished);
}
