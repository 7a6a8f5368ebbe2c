import { RedisReplyError } from './backend.ts';

/**
 * Checks ioredis-mock skips, for the commands @upstash/redis and @upstash/ratelimit use: arity, key types
 * (the mock answers INCR on a hash with NaN instead of WRONGTYPE) and upper-case option tokens (the mock
 * only recognises `EX`, `NX`, … in upper case; the SDK sends them lower-case).
 */

// Redis arity notation: n > 0 means exactly n words including the name, n < 0 at least -n.
const ARITY: Record<string, number> = {};
const ARITY_GROUPS: [number, string][] = [
  [1, 'dbsize'],
  [-1, 'ping flushdb flushall'],
  [
    2,
    'get getdel strlen incr decr type ttl pttl persist hgetall hkeys hvals hlen smembers scard zcard llen echo',
  ],
  [-2, 'getex mget del unlink exists lpop rpop script'],
  [3, 'getset append incrby incrbyfloat decrby hget hexists sismember zscore'],
  [-3, 'set mset expire pexpire expireat pexpireat hmget hdel sadd srem smismember zrem lpush rpush'],
  [-3, 'eval eval_ro evalsha evalsha_ro'],
  [4, 'hincrby hincrbyfloat zincrby lrange'],
  [-4, 'hset zadd zrange'],
];
for (const [arity, names] of ARITY_GROUPS) {
  for (const name of names.split(' ')) ARITY[name] = arity;
}

/** The type a command's first key must hold (or not exist). */
const KEY_TYPE: Record<string, string> = {};
const TYPED_COMMANDS: Record<string, string> = {
  string: 'get getdel getex getset append strlen incr incrby incrbyfloat decr decrby getrange setrange',
  hash: 'hset hsetnx hmset hget hmget hgetall hdel hexists hincrby hincrbyfloat hkeys hvals hlen hstrlen',
  set: 'sadd srem smembers sismember smismember scard spop srandmember',
  zset: 'zadd zrem zrange zincrby zscore zmscore zcard zcount zrank zrevrank zrevrange zrangebyscore',
  list: 'lpush rpush lpop rpop lrange llen lindex lset lrem ltrim lpushx rpushx',
};
for (const [type, names] of Object.entries(TYPED_COMMANDS)) {
  for (const name of names.split(' ')) KEY_TYPE[name] = type;
}

/** Option words the mock only understands in upper case, and where they may appear. */
const OPTIONS: Record<string, { from: number; words: string[]; leadingOnly: boolean }> = {
  set: { from: 2, words: ['EX', 'PX', 'EXAT', 'PXAT', 'NX', 'XX', 'GET', 'KEEPTTL'], leadingOnly: false },
  getex: { from: 1, words: ['EX', 'PX', 'EXAT', 'PXAT', 'PERSIST'], leadingOnly: false },
  zadd: { from: 1, words: ['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'], leadingOnly: true },
  expire: { from: 2, words: ['NX', 'XX', 'GT', 'LT'], leadingOnly: false },
  pexpire: { from: 2, words: ['NX', 'XX', 'GT', 'LT'], leadingOnly: false },
};

/** Throws Redis's arity error when `args` (without the name) cannot be right for `name`. */
export function checkArity(name: string, args: string[]): void {
  const arity = ARITY[name];
  if (arity === undefined) return;
  const words = args.length + 1;
  if (arity > 0 ? words !== arity : words < -arity) {
    throw new RedisReplyError(`ERR wrong number of arguments for '${name}' command`);
  }
}

/** Every typed command with the type its first key must have. */
export function typedCommands(): [string, string][] {
  return Object.entries(KEY_TYPE);
}

/** The type `name`'s first key must have, if the command is typed. */
export function expectedKeyType(name: string): string | undefined {
  return KEY_TYPE[name];
}

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/** Upper-cases option tokens (`ex` → `EX`) without touching keys, values or members. */
export function normalizeOptions(name: string, args: string[]): string[] {
  const spec = OPTIONS[name];
  if (!spec) return args;
  const out = [...args];
  for (let i = spec.from; i < out.length; i++) {
    const upper = out[i]?.toUpperCase() ?? '';
    if (spec.words.includes(upper)) out[i] = upper;
    else if (spec.leadingOnly) break;
  }
  return out;
}
