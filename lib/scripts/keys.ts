import type { LuaScript } from './run';

/** HMGET of a key record as a script, so it joins the rate limit's script in one pipelined request. */
export const KEY_LOOKUP: LuaScript = {
  name: 'key-lookup',
  source: `#!lua flags=allow-key-locking
-- KEYS: the key record hash. ARGV: the fields to read. Returns their values (false when missing).
return redis.call('HMGET', KEYS[1], unpack(ARGV))`,
  sha1: 'f65b33d232f1c750e7cd4252393224c468f38c63',
};
