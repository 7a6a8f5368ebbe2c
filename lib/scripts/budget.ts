import type { LuaScript } from './run';

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

// Charges the leases of one scope made on one day that expired at or before `upto` at their full
// amount: a settle lost to an evicted isolate or a Redis timeout is work the provider still bills, so
// the budget counts it as spent, never hands it back (a late settle corrects it). The charge lands on
// the day the lease expired: on `made` when before `boundary` (the next day's first ms), else on
// `after` (the next day), whose `index` the scope then joins. Without `after`, all of it lands on `made`.
const SWEEP = `local function sweep(leases, made, upto, boundary, after, index, scope, ttl)
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', upto, 'WITHSCORES')
  if #expired == 0 then return end
  local onMade, onAfter = 0, 0
  for j = 1, #expired, 2 do
    local id, held = string.match(expired[j], '^(.*):(%d+)$')
    if after and tonumber(expired[j + 1]) >= boundary then
      onAfter = onAfter + tonumber(held)
      redis.call('HSET', made, 'ended:' .. id, held .. ':1')
    else
      onMade = onMade + tonumber(held)
      redis.call('HSET', made, 'ended:' .. id, held)
    end
  end
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', upto)
  if onMade + onAfter > 0 then redis.call('HINCRBY', made, 'reserved', -(onMade + onAfter)) end
  if onMade > 0 then redis.call('HINCRBY', made, 'spent', onMade) end
  if onAfter > 0 then
    redis.call('HINCRBY', after, 'spent', onAfter)
    redis.call('SADD', index, scope)
    redis.call('EXPIRE', after, ttl)
    redis.call('EXPIRE', index, ttl)
  end
end
`;

/**
 * Sweeps expired leases (today's and yesterday's), then reserves `amount` on every scope if it fits in
 * all of them, or none; yesterday's live leases count against today's limit. With a fallback amount
 * (the same work on a cheaper model) it reserves the fallback instead once the first scope's spend has
 * reached `degrade above`, or when `amount` does not fit: the choice and the reservation are one atomic
 * step, so concurrent callers never degrade or overspend on stale reads.
 */
export const BUDGET_RESERVE: LuaScript = {
  name: 'budget-reserve',
  source: `-- KEYS: the day's scope index, then per scope its totals hash and leases zset of the day, then
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
  sha1: 'ed0d67f2d59319431132b14d553dd2c31bad13bf',
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
  source: `-- KEYS: the scope index and the alerting scope's alerts hash of the day the settle runs, then per
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
  sha1: '02aed962004ca9e1d052304831c1d31cf496bc48',
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

/**
 * Pushes a live reservation's lease expiry later on every scope, for a call that runs longer than its
 * lease (a long stream). Never shortens a lease, and never revives one that has ended: an expired lease
 * already counts as spent, swept or not.
 */
export const BUDGET_RENEW: LuaScript = {
  name: 'budget-renew',
  source: `-- KEYS: per scope its leases zset of the day the reservation was made.
-- ARGV: now (ms), new lease expiry (ms), reservation id, amount.
-- Returns how many scopes still held the lease live (0 = it had ended: settled, released or expired).
local member = ARGV[3] .. ':' .. ARGV[4]
local now, expiry = tonumber(ARGV[1]), tonumber(ARGV[2])
local live = 0
for i = 1, #KEYS do
  local score = tonumber(redis.call('ZSCORE', KEYS[i], member))
  if score and score > now then
    live = live + 1
    if expiry > score then redis.call('ZADD', KEYS[i], expiry, member) end
  end
end
return live`,
  sha1: '20cf2da619fb922c89e60cc94fc399c65d9e1e3d',
};

// Sums the leases of one zset that expired at or before `now`: all of them, and those that expired
// within [from, to), the day a sweep would charge them to.
const EXPIRED = `local function expired(leases, now, from, to)
  local all, within = 0, 0
  local list = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'WITHSCORES')
  for j = 1, #list, 2 do
    local amount, at = tonumber(string.match(list[j], ':(%d+)$')), tonumber(list[j + 1])
    all = all + amount
    if at >= from and at < to then within = within + amount end
  end
  return all, within
end
`;

/**
 * Reads each scope's totals of a day without changing anything. Expired leases count as spent on the
 * day they expired, as a sweep would charge them; reserved counts the live leases made on the day and
 * those carried over from the day before, as a reserve does.
 */
export const BUDGET_READ: LuaScript = {
  name: 'budget-read',
  source: `-- KEYS: per scope its totals hash, leases zset and alerts hash of the day, then its totals hash and
-- leases zset of the day before. ARGV: now (ms), the day's first instant (ms), the next day's (ms).
-- Returns per scope: spent (expired leases charged), reserved (live leases only), calls, number of
-- alerts, then the alerts.
${EXPIRED}local now, from, to = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for i = 1, math.floor(#KEYS / 5) do
  local h = redis.call('HMGET', KEYS[5 * i - 4], 'spent', 'reserved', 'calls')
  local carried = tonumber(redis.call('HGET', KEYS[5 * i - 1], 'reserved')) or 0
  local staleHere, spentHere = expired(KEYS[5 * i - 3], now, from, to)
  local staleBefore, spentBefore = expired(KEYS[5 * i], now, from, to)
  local alerts = redis.call('HKEYS', KEYS[5 * i - 2])
  out[#out + 1] = (tonumber(h[1]) or 0) + spentHere + spentBefore
  out[#out + 1] = (tonumber(h[2]) or 0) + carried - staleHere - staleBefore
  out[#out + 1] = tonumber(h[3]) or 0
  out[#out + 1] = #alerts
  for _, threshold in ipairs(alerts) do out[#out + 1] = tonumber(threshold) end
end
return out`,
  sha1: 'efcbaa972a99565f5bc7b9a36f4ff76758c7f6d6',
};

/**
 * For the cron: charges the leases that expired by the end of a day (the day's own, and the day
 * before's that were carried over into it), sets the retention TTL and returns its totals.
 */
export const BUDGET_ARCHIVE: LuaScript = {
  name: 'budget-archive',
  source: `-- KEYS: the day's scope index, then per scope its totals hash, leases zset and alerts hash of the
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
  sha1: 'd5f445d48bc4f7ca5e0a2cf414bab8750de10930',
};
