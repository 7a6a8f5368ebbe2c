import { withDefaults } from '../with-defaults';
import type { CacheOptions } from './types';

const DEFAULTS = { ttlSeconds: 86_400, leaseMs: 60_000, pollMs: 150 };
const WAIT_MARGIN_MS = 5_000;

/** Throws a RangeError unless `value` is a safe integer of at least `min`. */
export function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer of at least ${min}, got ${value}`);
  }
}

/** `options` with the defaults applied; throws a RangeError for options that cannot work. */
export function resolveOptions(options: Partial<CacheOptions>): CacheOptions {
  const base = withDefaults<Omit<CacheOptions, 'waitMs'>>(DEFAULTS, options);
  const resolved: CacheOptions = { waitMs: base.leaseMs + WAIT_MARGIN_MS, ...base };
  checkInteger('ttlSeconds', resolved.ttlSeconds, 1);
  checkInteger('leaseMs', resolved.leaseMs, 1);
  checkInteger('pollMs', resolved.pollMs, 1);
  checkInteger('waitMs', resolved.waitMs, resolved.leaseMs + resolved.pollMs);
  return resolved;
}
