/** The options of a circuit breaker (lib/breaker.ts), with their defaults applied in one place. */

import { withDefaults } from './with-defaults';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. @default 5 */
  failureThreshold: number;
  /** Seconds an open breaker refuses calls before letting one probe through. @default 60 */
  openSeconds: number;
  /** How long a half-open probe may take before another caller may probe. @default 30_000 */
  probeLeaseMs: number;
}

const DEFAULTS: BreakerOptions = { failureThreshold: 5, openSeconds: 60, probeLeaseMs: 30_000 };

/**
 * `options` with the defaults applied.
 * @throws RangeError for options that cannot work (a threshold below 1, a non-positive window or lease).
 */
export function resolveOptions(options: Partial<BreakerOptions>): BreakerOptions {
  const resolved = withDefaults(DEFAULTS, options);
  const { failureThreshold, openSeconds, probeLeaseMs } = resolved;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
    throw new RangeError(`failureThreshold must be a positive integer, got ${failureThreshold}`);
  }
  if (!Number.isFinite(openSeconds) || openSeconds <= 0) {
    throw new RangeError(`openSeconds must be positive, got ${openSeconds}`);
  }
  if (!Number.isInteger(probeLeaseMs) || probeLeaseMs < 1) {
    throw new RangeError(`probeLeaseMs must be a positive integer, got ${probeLeaseMs}`);
  }
  return resolved;
}
