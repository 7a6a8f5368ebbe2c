import type { LuaScript } from './run';

// The lease of one live reservation (data layout: lib/scripts/budget.ts): given back, or renewed.

/** Gives a live reservation back on every scope; a no-op once it was settled, released or swept. */
export const BUDGET_RELEASE: LuaScript = {
  name: 'budget-release',
  source: `#!lua flags=allow-key-locking
-- KEYS: per scope its totals hash and leases zset. ARGV: reservation id, amount.
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
  sha1: '77f37d4f361763c92db28227b6648a0946b4c1ce',
};

/**
 * Pushes a live reservation's lease expiry later on every scope, for a call that runs longer than its
 * lease (a long stream). Never shortens a lease, and never revives one that has ended: an expired lease
 * already counts as spent, swept or not.
 */
export const BUDGET_RENEW: LuaScript = {
  name: 'budget-renew',
  source: `#!lua flags=allow-key-locking
-- KEYS: per scope its leases zset of the day the reservation was made.
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
  sha1: '58eb8b4be8685c0a58061aad74a4a47f51b37c20',
};

// Sums the leases of one zset that expired at or before `now`: all of them, and those that expired
