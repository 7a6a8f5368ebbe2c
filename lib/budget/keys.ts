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
/** A scope's totals hash and leases zset on `day`, the pair the scripts take together. */
export const dayKeys = (day: string, scope: string) => [totalsKey(day, scope), leasesKey(day, scope)];
