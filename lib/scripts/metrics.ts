import type { LuaScript } from './run';

/** Adds one request's counters to its minute's hash and to the running totals, in one atomic call. */
export const METRICS_ADD: LuaScript = {
  name: 'metrics-add',
  source: `#!lua flags=allow-key-locking
-- KEYS: the minute's hash, the totals hash. ARGV: the minute's TTL (s), then field, increment pairs.
for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`,
  sha1: '923c59efb96e538a341e53a6c76f87bc82fe669d',
};
