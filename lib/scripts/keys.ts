import type { LuaScript } from './run';

/** HMGET of a key record as a script, so it joins the rate limit's script in one pipelined request. */
export const KEY_LOOKUP: LuaScript = {
  name: 'key-lookup',
  source: `-- KEYS: the key record hash. ARGV: the fields to read. Returns their values (false when missing).
return redis.call('HMGET', KEYS[1], unpack(ARGV))`,
  sha1: 'e3de58d4bddfd1fc0e448207e0b7e2727176a536',
};
