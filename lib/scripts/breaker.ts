import type { LuaScript } from './run';

// Kept runnable on Redis's Lua 5.1 and on the embedded dev store (ioredis-mock's fengari, Lua 5.3): no
// cjson, cmsgpack or bit, integer replies only, and a missing HMGET field compared as `false`/nil.
// The hash holds `state` ('open' or absent = closed), `failures`, `open_until` (ms), and while a
// half-open probe runs, `probe` (its id) and `probe_until` (its lease, ms). Half-open is not stored:
// it is "open and the window has passed". `throttled_until` (ms) is set by a 429 rate_limit_exceeded:
// the provider is healthy but this account must wait. The whole key is deleted when the breaker closes.

/**
 * Asks for one call: closed allows, open refuses, half-open lets one caller (no live lease) probe; while
 * the provider's rate limit says wait (`throttled_until`), every caller is refused without a verdict.
 */
export const BREAKER_ACQUIRE: LuaScript = {
  name: 'breaker-acquire',
  source: `#!lua flags=allow-key-locking
-- KEYS[1]: the breaker hash. ARGV: now (ms), probe id, probe lease (ms), idle TTL (s).
-- Returns {state, allowed, failures, wait ms, throttled}; state 0 closed, 1 open, 2 half-open; throttled
-- 1 when the refusal is the provider's rate limit (it is up; we must wait), not an outage.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local h = redis.call('HMGET', key, 'state', 'failures', 'open_until', 'probe_until', 'throttled_until')
local failures = tonumber(h[2]) or 0
local open = h[1] == 'open'
local open_until = tonumber(h[3]) or 0
if open and now < open_until then return {1, 0, failures, open_until - now, 0} end
local throttled_until = tonumber(h[5]) or 0
if now < throttled_until then return {open and 2 or 0, 0, failures, throttled_until - now, 1} end
if not open then return {0, 1, failures, 0, 0} end
local probe_until = tonumber(h[4]) or 0
if now < probe_until then return {2, 0, failures, probe_until - now, 0} end
redis.call('HSET', key, 'probe', ARGV[2], 'probe_until', now + tonumber(ARGV[3]))
redis.call('EXPIRE', key, ARGV[4])
return {2, 1, failures, 0, 0}`,
  sha1: 'c2687a47169ea00fb62fb7c3c6084e9eea3e1266',
};

/**
 * Reports one call's outcome; only the live probe's report closes or re-opens a half-open breaker. A
 * `release` says nothing of the provider's health (no call was made, or it ended without an answer):
 * the probe's lease is given up, so the next caller probes, and nothing else changes. A `throttle` (a
 * 429 rate_limit_exceeded) is a release that also makes every caller wait until the given time.
 */
export const BREAKER_RECORD: LuaScript = {
  name: 'breaker-record',
  source: `#!lua flags=allow-key-locking
-- KEYS[1]: the breaker hash. ARGV: now (ms), 'success', 'failure', 'release' or 'throttle', probe
-- id ('' if none), failure threshold, open window (ms), idle TTL (s), wait (ms, for 'throttle').
-- Returns {state, failures} after the report.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local h = redis.call('HMGET', key, 'state', 'failures', 'open_until', 'probe', 'throttled_until')
local failures = tonumber(h[2]) or 0
local open = h[1] == 'open'
local probe = open and ARGV[3] ~= '' and h[4] == ARGV[3]
if ARGV[2] == 'release' or ARGV[2] == 'throttle' then
  if probe then redis.call('HDEL', key, 'probe', 'probe_until') end
  if ARGV[2] == 'throttle' then
    local untl = now + tonumber(ARGV[7])
    if untl > (tonumber(h[5]) or 0) then redis.call('HSET', key, 'throttled_until', untl) end
    redis.call('EXPIRE', key, ARGV[6])
  end
  if not open then return {0, failures} end
  if now < (tonumber(h[3]) or 0) then return {1, failures} end
  return {2, failures}
end
if ARGV[2] == 'success' then
  if probe or not open then
    redis.call('DEL', key)
    return {0, 0}
  end
  failures = 0
else
  failures = failures + 1
  if probe or (not open and failures >= tonumber(ARGV[4])) then
    redis.call('HSET', key, 'state', 'open', 'failures', failures, 'open_until', now + tonumber(ARGV[5]))
    redis.call('HDEL', key, 'probe', 'probe_until')
    redis.call('EXPIRE', key, ARGV[6])
    return {1, failures}
  end
end
redis.call('HSET', key, 'failures', failures)
redis.call('EXPIRE', key, ARGV[6])
if not open then return {0, failures} end
if now < (tonumber(h[3]) or 0) then return {1, failures} end
return {2, failures}`,
  sha1: 'bdbc09be59fc66bb21db3888fd6147e94db83c63',
};
