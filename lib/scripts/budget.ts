import type { LuaScript } from './run';

// Kept runnable on Redis's Lua 5.1 and on the embedded dev store (ioredis-mock's fengari, Lua 5.3): no
// cjson, cmsgpack or bit, replies are flat arrays of integers, and a missing HMGET field is `false`.
// Amounts are integer nanodollars; Lua numbers are doubles, exact to 2^53, and every counter changes by
// HINCRBY with an integer, so totals never drift.
//
// Per day and scope (see lib/budget/keys.ts): a `totals` hash {spent, reserved, calls, ended:<id>…}, a
// `leases` sorted set of live reservations (member `<id>:<amount>`, score = lease expiry in ms) and an
// `alerts` hash (threshold → ms it fired). `ended:<id>` marks a reservation whose lease expired or was
// released while unsettled, holding what it was charged then: a later settle records its actual spend
// in place of that charge, exactly once.

// Charges the leases of one scope that expired at or before `now` at their full amount: a settle lost
// to an evicted isolate or a Redis timeout is work the provider still bills, so the budget counts it as
// spent, never hands it back (a late settle corrects it). Leaves an `ended:` mark with the charge.
const SWEEP = `local function sweep(totals, leases, now)
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
  if #expired == 0 then return end
  local sum = 0
  for _, member in ipairs(expired) do
    local id, held = string.match(member, '^(.*):(%d+)$')
    sum = sum + tonumber(held)
    redis.call('HSET', totals, 'ended:' .. id, held)
  end
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if sum > 0 then
    redis.call('HINCRBY', totals, 'reserved', -sum)
    redis.call('HINCRBY', totals, 'spent', sum)
  end
end
`;

/**
 * Sweeps expired leases, then reserves `amount` on every scope if it fits in all of them, or none. With a
 * fallback amount (the same work on a cheaper model) it reserves the fallback instead once the first
 * scope's spend has reached `degrade above`, or when `amount` does not fit: the choice and the
 * reservation are one atomic step, so concurrent callers never degrade or overspend on stale reads.
 */
export const BUDGET_RESERVE: LuaScript = {
  name: 'budget-reserve',
  source: `-- KEYS: the day's scope index, then per scope its totals hash and leases zset.
-- ARGV: now (ms), lease expiry (ms), reservation id, amount, TTL (s), fallback amount (-1 = none),
-- degrade above (spend of the first scope; -1 = never), then per scope its name and limit.
-- Returns {1, tier (1 = amount, 2 = fallback)} when reserved, or {0, refusing scope's position
-- (1-based), its spent, its reserved} for the last amount tried.
${SWEEP}local now = tonumber(ARGV[1])
local n = math.floor(#KEYS / 2)
for i = 1, n do sweep(KEYS[2 * i], KEYS[2 * i + 1], now) end
local function refusal(amount)
  for i = 1, n do
    local h = redis.call('HMGET', KEYS[2 * i], 'spent', 'reserved')
    local spent, reserved = tonumber(h[1]) or 0, tonumber(h[2]) or 0
    if spent + reserved + amount > tonumber(ARGV[7 + 2 * i]) then return {0, i, spent, reserved} end
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
  redis.call('HINCRBY', KEYS[2 * i], 'reserved', pick)
  redis.call('ZADD', KEYS[2 * i + 1], ARGV[2], ARGV[3] .. ':' .. pick)
  redis.call('SADD', KEYS[1], ARGV[6 + 2 * i])
  redis.call('EXPIRE', KEYS[2 * i], ARGV[5])
  redis.call('EXPIRE', KEYS[2 * i + 1], ARGV[5])
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, tier}`,
  sha1: 'de39b35f79e28adbdc8067cc8f5085a504db85a2',
};

/**
 * Records a reservation's actual cost on every scope: frees the live lease and adds the spend, or, for
 * an expired or released one, consumes its `ended:` mark and replaces what it was charged then with
 * the actual cost; counts one call, and fires alert thresholds once a day.
 */
export const BUDGET_SETTLE: LuaScript = {
  name: 'budget-settle',
  source: `-- KEYS: per scope its totals hash and leases zset, then the alerts hash of the alerting scope.
-- ARGV: reservation id, reserved amount, actual amount, TTL (s), now (ms), position of the alerting
-- scope (0 = none), then the alert thresholds. Returns {scopes recorded, spent of the alerting scope
-- (or of the first), thresholds that fired now…}; 0 scopes recorded means it was already settled.
local member = ARGV[1] .. ':' .. ARGV[2]
local ended = 'ended:' .. ARGV[1]
local held = tonumber(ARGV[2])
local n = math.floor(#KEYS / 2)
local alerting = tonumber(ARGV[6])
local recorded, fire = 0, false
for i = 1, n do
  local totals = KEYS[2 * i - 1]
  local live = redis.call('ZREM', KEYS[2 * i], member) == 1
  if live and held > 0 then redis.call('HINCRBY', totals, 'reserved', -held) end
  local charged = live and 0 or tonumber(redis.call('HGET', totals, ended))
  if charged then
    if not live then redis.call('HDEL', totals, ended) end
    redis.call('HINCRBY', totals, 'spent', tonumber(ARGV[3]) - charged)
    redis.call('HINCRBY', totals, 'calls', 1)
    redis.call('EXPIRE', totals, ARGV[4])
    recorded = recorded + 1
    if i == alerting then fire = true end
  end
end
local report = alerting > 0 and alerting or 1
local spent = tonumber(redis.call('HGET', KEYS[2 * report - 1], 'spent')) or 0
local out = {recorded, spent}
if fire then
  local alerts = KEYS[#KEYS]
  for j = 7, #ARGV do
    if spent >= tonumber(ARGV[j]) and redis.call('HSETNX', alerts, ARGV[j], ARGV[5]) == 1 then
      out[#out + 1] = tonumber(ARGV[j])
    end
  end
  redis.call('EXPIRE', alerts, ARGV[4])
end
return out`,
  sha1: 'e716dcd8d0c2f5b83b99a6fd143d35e13a2128ff',
};

/** Gives a live reservation back on every scope; a no-op once it was settled, released or swept. */
export const BUDGET_RELEASE: LuaScript = {
  name: 'budget-release',
  source: `-- KEYS: per scope its totals hash and leases zset. ARGV: reservation id, amount.
-- Returns how many scopes still held the lease (0 = nothing to give back).
local member = ARGV[1] .. ':' .. ARGV[2]
local held = tonumber(ARGV[2])
local released = 0
for i = 1, math.floor(#KEYS / 2) do
  if redis.call('ZREM', KEYS[2 * i], member) == 1 then
    if held > 0 then redis.call('HINCRBY', KEYS[2 * i - 1], 'reserved', -held) end
    redis.call('HSET', KEYS[2 * i - 1], 'ended:' .. ARGV[1], 0)
    released = released + 1
  end
end
return released`,
  sha1: '8ebb0757f274b4d50d780e2d20b386d28c93932c',
};

/** Reads each scope's totals without changing anything; expired leases count as spent, as a sweep would. */
export const BUDGET_READ: LuaScript = {
  name: 'budget-read',
  source: `-- KEYS: per scope its totals hash, leases zset and alerts hash. ARGV: now (ms).
-- Returns per scope: spent (expired leases charged), reserved (live leases only), calls, number of
-- alerts, then the alerts.
local out = {}
for i = 1, math.floor(#KEYS / 3) do
  local h = redis.call('HMGET', KEYS[3 * i - 2], 'spent', 'reserved', 'calls')
  local stale = 0
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3 * i - 1], '-inf', ARGV[1])) do
    stale = stale + tonumber(string.match(member, ':(%d+)$'))
  end
  local alerts = redis.call('HKEYS', KEYS[3 * i])
  out[#out + 1] = (tonumber(h[1]) or 0) + stale
  out[#out + 1] = (tonumber(h[2]) or 0) - stale
  out[#out + 1] = tonumber(h[3]) or 0
  out[#out + 1] = #alerts
  for _, threshold in ipairs(alerts) do out[#out + 1] = tonumber(threshold) end
end
return out`,
  sha1: 'acad822bb89076fdf1832938bb8fce4753b3eff7',
};

/** For the cron: charges a day's expired leases, sets the retention TTL and returns its totals. */
export const BUDGET_ARCHIVE: LuaScript = {
  name: 'budget-archive',
  source: `-- KEYS: the day's scope index, then per scope its totals hash, leases zset and alerts hash.
-- ARGV: now (ms), TTL (s). Returns per scope: spent, calls.
${SWEEP}local out = {}
for i = 1, math.floor(#KEYS / 3) do
  local totals, leases = KEYS[3 * i - 1], KEYS[3 * i]
  sweep(totals, leases, tonumber(ARGV[1]))
  local h = redis.call('HMGET', totals, 'spent', 'calls')
  out[#out + 1] = tonumber(h[1]) or 0
  out[#out + 1] = tonumber(h[2]) or 0
  for k = 3 * i - 1, 3 * i + 1 do redis.call('EXPIRE', KEYS[k], ARGV[2]) end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return out`,
  sha1: '9de2f2eecbabc822f922e8785c5b5062bcdfc7b9',
};
