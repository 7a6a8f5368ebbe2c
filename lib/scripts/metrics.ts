import type { LuaScript } from './run';

/**
 * Adds one request's (or one minute bucket's) counters to its minute's hash, its hour's hash and the
 * running totals, in one atomic call, so an hour always equals the sum of its minutes.
 */
export const METRICS_ADD: LuaScript = {
  name: 'metrics-add',
  source: `#!lua flags=allow-key-locking
-- KEYS: the minute's hash, the hour's hash, the totals hash. ARGV: the TTL (s) of the minute and the
-- hour (the hour's is renewed by each write, so it outlives each of its minutes), then field,
-- increment pairs.
for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1`,
  sha1: 'a7aacd9e9c4ec50307e516fcc2e50beef5cb5cab',
};
