import type { LuaScript } from './run';

// Kept runnable on Redis's Lua 5.1 and on the embedded dev store (ioredis-mock's fengari, Lua 5.3): no
// cjson, cmsgpack or bit; replies are flat arrays of integers and strings. An entry is a JSON string
// starting `{"cached_at":` (lib/cache/entry.ts); anything else at the key counts as absent, so the next
// leader overwrites it. The lease key holds the leader's id and expires on its own after the lease.

/**
 * One round trip for the common cases: returns the entry if there is one, else takes the lease if it
 * is free, else says how long the current leader's lease still holds.
 */
export const CACHE_LOOKUP: LuaScript = {
  name: 'cache-lookup',
  source: `#!lua flags=allow-key-locking
-- KEYS[1]: the entry, KEYS[2]: its lease. ARGV: lease id, lease (ms).
-- Returns {0, entry} on a hit, {1} when the lease was granted, {2, ms left on the leader's lease}.
local entry = redis.call('GET', KEYS[1])
if entry and string.sub(entry, 1, 13) == '{"cached_at":' then return {0, entry} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {2, redis.call('PTTL', KEYS[2])}`,
  sha1: 'd93d11e457731e34179b6f2c6b547aada7ca1aca',
};

/**
 * The leader's last step, in one round trip: stores the entry (if it has one to store) and frees the
 * lease if this leader still holds it, so a leader that outlived its lease never frees its successor's.
 */
export const CACHE_FINISH: LuaScript = {
  name: 'cache-finish',
  source: `#!lua flags=allow-key-locking
-- KEYS[1]: the entry, KEYS[2]: its lease. ARGV: lease id, entry ('' = store nothing), TTL (s).
-- Returns {stored, released}, each 0 or 1.
local stored, released = 0, 0
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  stored = 1
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  released = 1
end
return {stored, released}`,
  sha1: 'b1e136d46f0d10040df95c19db47550d319fdef2',
};

/**
 * A leader still at work extends its lease, if it still holds it: a lease that expired and was taken
 * by another caller is not taken back.
 */
export const CACHE_RENEW: LuaScript = {
  name: 'cache-renew',
  source: `#!lua flags=allow-key-locking
-- KEYS[1]: the lease. ARGV: lease id, lease (ms). Returns 1 when renewed, 0 when not this holder's.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
  sha1: 'e5fe98dc99b6a9d74e63915c5d39c056d72197b5',
};
