import { SWEEP } from './budget-sweep';
import type { LuaScript } from './run';

// The cron's closing of a budget day (data layout: lib/scripts/budget.ts).

/**
 * For the cron: charges the leases that expired by the end of a day (the day's own, and the day
 * before's that were carried over into it), sets the retention TTL and returns its totals.
 */
export const BUDGET_ARCHIVE: LuaScript = {
  name: 'budget-archive',
  source: `#!lua flags=allow-key-locking
-- KEYS: the day's scope index, then per scope its totals hash, leases zset and alerts hash of the
-- day, then its totals hash and leases zset of the day before.
-- ARGV: sweep until (ms: now, or the day's last ms once it has ended), the day's first instant (ms),
-- TTL (s), then per scope its name. Returns per scope: spent, calls, 1 when the scope reserved or
-- spent on the day (else 0).
${SWEEP}local upto, first, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local out = {}
for i = 1, math.floor(#KEYS / 5) do
  local totals, leases, scope = KEYS[5 * i - 3], KEYS[5 * i - 2], ARGV[3 + i]
  sweep(KEYS[5 * i + 1], KEYS[5 * i], upto, first, totals, KEYS[1], scope, ttl)
  sweep(leases, totals, upto)
  local h = redis.call('HMGET', totals, 'spent', 'calls')
  out[#out + 1] = tonumber(h[1]) or 0
  out[#out + 1] = tonumber(h[2]) or 0
  out[#out + 1] = redis.call('SISMEMBER', KEYS[1], scope)
  for k = 5 * i - 3, 5 * i - 1 do redis.call('EXPIRE', KEYS[k], ttl) end
end
redis.call('EXPIRE', KEYS[1], ttl)
return out`,
  sha1: '956509312a533e9e0e7d05cbfb5f2bc7ba5fd7b2',
};
