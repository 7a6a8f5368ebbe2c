import { withDefaults } from '../with-defaults';
import type { BudgetOptions } from './types';

/** The budget's options (lib/budget.ts) with their defaults, and the checks its methods make on input. */

const DEFAULTS: BudgetOptions = {
  timeZone: 'UTC',
  leaseMs: 120_000,
  globalScope: 'global',
  keyScopePrefix: 'key:',
  retentionDays: 8,
};
/** Milliseconds in a day of 24 hours. */
export const DAY_MS = 86_400_000;

/** Throws a RangeError unless `value` is a non-negative integer of nanodollars. */
export function checkNanos(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer of nanodollars, got ${value}`);
  }
}

/** Throws a RangeError unless `scopes` names at least one scope, each once and none empty. */
export function checkScopes(scopes: readonly string[]): void {
  if (scopes.length === 0) throw new RangeError('a reservation needs at least one scope');
  if (new Set(scopes).size !== scopes.length) throw new RangeError(`scopes repeat: ${scopes.join(', ')}`);
  if (scopes.some((s) => typeof s !== 'string' || s === '')) throw new RangeError('a scope name is empty');
}

/** Throws a RangeError unless `leaseMs` is a positive integer. */
export function checkLeaseMs(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1) {
    throw new RangeError(`leaseMs must be a positive integer, got ${leaseMs}`);
  }
}

/**
 * `options` with the defaults applied.
 * @throws RangeError for options that cannot work (a lease below 1 ms, a non-positive retention, …).
 */
export function resolveOptions(options: Partial<BudgetOptions>): BudgetOptions {
  const resolved = withDefaults(DEFAULTS, options);
  const { leaseMs, retentionDays, globalScope, keyScopePrefix } = resolved;
  checkLeaseMs(leaseMs);
  if (!(retentionDays > 0)) throw new RangeError(`retentionDays must be positive, got ${retentionDays}`);
  if (!globalScope || !keyScopePrefix) throw new RangeError('globalScope and keyScopePrefix are required');
  return resolved;
}
