import { SWEEP } from './budget-sweep';
import type { LuaScript } from './run';

// The budget's reserve and settle. Its other scripts, on the same keys: release and renew
// (budget-lease.ts), read (budget-read.ts), the cron's archive (budget-archive.ts), and the sweep of
// expired leases they share (budget-sweep.ts).
//
// Kept runnable on Redis's Lua 5.1 and on the embedded dev store (ioredis-mock's fengari, Lua 5.3): no
// cjson, cmsgpack or bit, replies are flat arrays of integers, and a missing HMGET field is `false`.
// Amounts are integer nanodollars; Lua numbers are doubles, exact to 2^53, and every counter changes by
// HINCRBY with an integer, so totals never drift.
//
// Per day and scope (see lib/budget/keys.ts): a `totals` hash {spent, reserved, calls, ended:<id>…}, a
// `leases` sorted set of the live reservations made that day (member `<id>:<amount>`, score = lease
// expiry in ms) and an `alerts` hash (threshold → ms it fired). `reserved` sums the day's leases.
// `ended:<id>` marks a reservation whose lease expired or was released while unsettled, holding what it
// was charged then (`<charge>`, or `<charge>:1` when the charge landed on the day after the one it was
// made on): a later settle replaces that charge with its actual spend, exactly once.
//
// The day boundary (#14): a lease lives in the keys of the day it was made on, and ends at the latest
// when the next day ends (lib/budget.ts clamps it), so at any instant the live leases were made today
// or yesterday. A reserve counts both against today's limit: a call still running at midnight holds
// the new day's headroom until it settles, and its spend lands on the day it ended.

/**
 * Sweeps expired leases (today's and yesterday's), then reserves `amount` on every scope if it fits in
 * all of them, or none; yesterday's live leases count against today's limit. With a fallback amount
 * (the same work on a cheaper model) it reserves the fallback instead once the first scope's spend has
 * reached `degrade above`, or when `amount` does not fit: the choice and the reservation are one atomic
 * step, so concurrent callers never degrade or overspend on stale reads.
 */
export const BUDGET_RESERVE: LuaScript = {
  name: 'budget-reserve',
  source: `#!lua flags=allow-key-locking
-- KEYS: the day's scope index, then per scope its totals hash and leases zset of the day, then
-- its totals hash and leases zset of the day before.
-- ARGV: now (ms), lease expiry (ms), reservation id, amount, TTL (s), fallback amount (-1 = none),
-- degrade above (spend of the first scope; -1 = never), the day's first instant (ms), then per scope
-- its name and limit.
-- Returns {1, tier (1 = amount, 2 = fallback)} when reserved, or {0, refusing scope's position
-- (1-based), its spent, its reserved (carried over included)} for the last amount tried.
${SWEEP}local now, first, ttl = tonumber(ARGV[1]), tonumber(ARGV[8]), ARGV[5]
local n = math.floor(#KEYS / 4)
for i = 1, n do
  local k = 4 * i - 2
  sweep(KEYS[k + 3], KEYS[k + 2], now, first, KEYS[k], KEYS[1], ARGV[7 + 2 * i], ttl)
  sweep(KEYS[k + 1], KEYS[k], now)
end
local function refusal(amount)
  for i = 1, n do
    local h = redis.call('HMGET', KEYS[4 * i - 2], 'spent', 'reserved')
    local carried = tonumber(redis.call('HGET', KEYS[4 * i], 'reserved')) or 0
    local spent, reserved = tonumber(h[1]) or 0, (tonumber(h[2]) or 0) + carried
    if spent + reserved + amount > tonumber(ARGV[8 + 2 * i]) then return {0, i, spent, reserved} end
  end
  return nil
end
local fallback, above = tonumber(ARGV[6]), tonumber(ARGV[7])
local tier, pick = 1, ARGV[4]
if fallback >= 0 and above >= 0 and (tonumber(redis.call('HGET', KEYS[2], 'spent')) or 0) >= above then
  tier, pick = 2, ARGV[6]
end
local refused = refusal(tonumber(pick))
if refused and tier == 1 and fallback >= 0 then
  tier, pick = 2, ARGV[6]
  refused = refusal(fallback)
end
if refused then return refused end
for i = 1, n do
  redis.call('HINCRBY', KEYS[4 * i - 2], 'reserved', pick)
  redis.call('ZADD', KEYS[4 * i - 1], ARGV[2], ARGV[3] .. ':' .. pick)
  redis.call('SADD', KEYS[1], ARGV[7 + 2 * i])
  redis.call('EXPIRE', KEYS[4 * i - 2], ttl)
  redis.call('EXPIRE', KEYS[4 * i - 1], ttl)
end
redis.call('EXPIRE', KEYS[1], ttl)
return {1, tier}`,
  sha1: '923630b28a32a2f2f0feb3507623214e5d670e5b',
};

/**
 * Records a reservation's actual cost on every scope. A live lease is freed on the day it was made and
 * its spend lands on the day the settle runs (the day the call ended). An expired or released one
 * consumes its `ended:` mark instead: a charge is replaced by the actual cost on the day it was charged
 * (that day counted the lease until it expired; the settle's day never held room for it), and a
 * release, which charged nothing, lands on the settle's day. Counts one call where the spend lands, and
 * fires the alert thresholds of the settle's day once.
 */
export const BUDGET_SETTLE: LuaScript = {
  name: 'budget-settle',
  source: `#!lua flags=allow-key-locking
-- KEYS: the scope index and the alerting scope's alerts hash of the day the settle runs, then per
-- scope its leases zset of the day the reservation was made and its totals hash of each of the k days
-- that spend may land on: the day made, the day after it, and the settle's own day (the last).
-- ARGV: reservation id, reserved amount, actual amount, TTL (s) of the settle's day, now (ms), position
-- of the alerting scope (0 = none), k, then per scope its name, then the alert thresholds.
-- Returns {scopes recorded, the settle's day's spent of the alerting scope (or of the first),
-- thresholds that fired now…}; 0 scopes recorded means it was already settled.
local member = ARGV[1] .. ':' .. ARGV[2]
local ended = 'ended:' .. ARGV[1]
local held, actual = tonumber(ARGV[2]), tonumber(ARGV[3])
local alerting, k = tonumber(ARGV[6]), tonumber(ARGV[7])
local n = math.floor((#KEYS - 2) / (k + 1))
local recorded, fire = 0, false
for i = 1, n do
  local base = 2 + (k + 1) * (i - 1)
  local made, today = KEYS[base + 2], KEYS[base + k + 1]
  local land, delta = today, actual
  if redis.call('ZREM', KEYS[base + 1], member) == 1 then
    if held > 0 then redis.call('HINCRBY', made, 'reserved', -held) end
  else
    local mark = redis.call('HGET', made, ended)
    if mark then
      redis.call('HDEL', made, ended)
      local charge, offset = string.match(mark, '^(%d+):?(%d*)$')
      if tonumber(charge) > 0 then
        local day = 1 + (tonumber(offset) or 0)
        land, delta = day <= k and KEYS[base + 1 + day] or today, actual - tonumber(charge)
      end
    else
      land = nil
    end
  end
  if land then
    redis.call('HINCRBY', land, 'spent', delta)
    redis.call('HINCRBY', land, 'calls', 1)
    if land == today then
      redis.call('SADD', KEYS[1], ARGV[7 + i])
      redis.call('EXPIRE', today, ARGV[4])
      redis.call('EXPIRE', KEYS[1], ARGV[4])
    end
    recorded = recorded + 1
    if i == alerting then fire = true end
  end
end
local report = alerting > 0 and alerting or 1
local spent = tonumber(redis.call('HGET', KEYS[2 + (k + 1) * report], 'spent')) or 0
local out = {recorded, spent}
if fire then
  local alerts = KEYS[2]
  for j = 8 + n, #ARGV do
    if spent >= tonumber(ARGV[j]) and redis.call('HSETNX', alerts, ARGV[j], ARGV[5]) == 1 then
      out[#out + 1] = tonumber(ARGV[j])
    end
  end
  redis.call('EXPIRE', alerts, ARGV[4])
end
return out`,
  sha1: '80ca0e6c0c85e88821857bd3aa7ea542c8422191',
};
