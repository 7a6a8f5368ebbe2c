import { redisKey } from '../store';

// The kind comes before the scope, so a scope name holding `:` can never produce another kind's key.

/** The set of every scope reserved on `day`, for the archive. */
export const scopeIndexKey = (day: string) => redisKey('budget', day, 'scopes');
/** Hash {spent, reserved, calls, ended:<reservation id>…} of one scope on one day. */
export const totalsKey = (day: string, scope: string) => redisKey('budget', day, 'totals', scope);
/** Sorted set of the scope's live leases on `day`: member `<id>:<amount>`, score = expiry (ms). */
export const leasesKey = (day: string, scope: string) => redisKey('budget', day, 'leases', scope);
/** Hash threshold → ms it fired, of the alerts the scope sent on `day`. */
export const alertsKey = (day: string, scope: string) => redisKey('budget', day, 'alerts', scope);
/** Hash day → JSON summary of the finished days of the gateway-wide scope `globalScope`. */
export const historyKey = (globalScope: string) => redisKey('budget', 'history', globalScope);
/**
 * A scope's totals hash and leases zset on `day`, the pair the scripts take together. Remembered per
 * day (a reservation and its settle each ask for every scope's pair, today's and yesterday's), for at
 * most DAYS_REMEMBERED days of at most SCOPES_REMEMBERED scopes each.
 */
export function dayKeys(day: string, scope: string): readonly [string, string] {
  let scopes = dayPairs.get(day);
  if (!scopes) {
    if (dayPairs.size >= DAYS_REMEMBERED) dayPairs.clear();
    scopes = new Map();
    dayPairs.set(day, scopes);
  }
  let pair = scopes.get(scope);
  if (!pair) {
    pair = [totalsKey(day, scope), leasesKey(day, scope)];
    if (scopes.size < SCOPES_REMEMBERED) scopes.set(scope, pair);
  }
  return pair;
}

const dayPairs = new Map<string, Map<string, readonly [string, string]>>();
const DAYS_REMEMBERED = 4;
const SCOPES_REMEMBERED = 1024;
