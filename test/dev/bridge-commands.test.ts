import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKENDS, useBridge } from '../support/node/bridge-fixture.ts';

// Command semantics the SDK and @upstash/ratelimit rely on, with the exact replies real Redis 7 gives.
// Both backends must match them: this is where the embedded store's ioredis-mock fixes are pinned.

type Step = [command: (string | number)[], expected: unknown];
const WRONGTYPE = { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' };
const NOT_INTEGER = { error: 'ERR value is not an integer or out of range' };

// `K` in an argument stands for a key unique to the test run.
const CASES: [string, Step[]][] = [
  [
    'SET options in any order, with validation',
    [
      [['set', 'K', 'a', 'get', 'ex', 100], { result: null }],
      [['ttl', 'K'], { result: 100 }],
      [['set', 'K', 'b', 'keepttl', 'get'], { result: 'a' }],
      [['ttl', 'K'], { result: 100 }],
      [['set', 'K', 'c', 'xx', 'get'], { result: 'b' }],
      [['ttl', 'K'], { result: -1 }],
      [['set', 'K:new', 'x', 'xx'], { result: null }],
      [['set', 'K', 'd', 'nx', 'get'], { result: 'c' }],
      [['set', 'K', 'e', 'ex', 0], { error: "ERR invalid expire time in 'set' command" }],
      [['set', 'K', 'e', 'px', 'soon'], NOT_INTEGER],
      [['set', 'K', 'e', 'nx', 'xx'], { error: 'ERR syntax error' }],
      [['get', 'K'], { result: 'c' }],
    ],
  ],
  [
    'integer increments refuse non-integers and other types',
    [
      [['set', 'K', '1.5'], { result: 'OK' }],
      [['incr', 'K'], NOT_INTEGER],
      [['incrbyfloat', 'K', '1e2'], { result: '101.5' }],
      [['incrby', 'K:n', 'ten'], NOT_INTEGER],
      [['hset', 'K:h', 'f', '1.5'], { result: 1 }],
      [['hincrby', 'K:h', 'f', 1], { error: 'ERR hash value is not an integer' }],
      [['hincrbyfloat', 'K:h', 'f', '0.25'], { result: '1.75' }],
      [['incr', 'K:h'], WRONGTYPE],
      [['get', 'K:h'], WRONGTYPE],
      [['sadd', 'K:h', 'm'], WRONGTYPE],
      [['hgetall', 'K:h'], { result: ['f', '1.75'] }],
    ],
  ],
  [
    'EXPIRE and PEXPIRE with NX, XX, GT and LT',
    [
      [['set', 'K', 'v'], { result: 'OK' }],
      [['expire', 'K', 100, 'xx'], { result: 0 }],
      [['expire', 'K', 100, 'nx'], { result: 1 }],
      [['expire', 'K', 200, 'nx'], { result: 0 }],
      [['expire', 'K', 50, 'gt'], { result: 0 }],
      [['expire', 'K', 50, 'lt'], { result: 1 }],
      [['ttl', 'K'], { result: 50 }],
      [['pexpire', 'K', 90_000, 'gt'], { result: 1 }],
      [['ttl', 'K'], { result: 90 }],
      [['expire', 'K:missing', 10], { result: 0 }],
      [['ttl', 'K:missing'], { result: -2 }],
    ],
  ],
  [
    'ZADD with NX, XX, GT, LT, CH and INCR',
    [
      [['zadd', 'K', 1, 'a', 2, 'b'], { result: 2 }],
      [['zadd', 'K', 'nx', 5, 'a', 3, 'c'], { result: 1 }],
      [['zadd', 'K', 'xx', 'ch', 7, 'a', 9, 'z'], { result: 1 }],
      [['zadd', 'K', 'gt', 'ch', 1, 'a', 8, 'b'], { result: 1 }],
      [['zadd', 'K', 'lt', 4, 'a'], { result: 0 }],
      [['zadd', 'K', 'incr', '2.5', 'c'], { result: '5.5' }],
      [['zadd', 'K', 'nx', 'incr', 1, 'c'], { result: null }],
      [['zrange', 'K', 0, -1, 'withscores'], { result: ['a', '4', 'c', '5.5', 'b', '8'] }],
      [['zincrby', 'K', '1.5', 'a'], { result: '5.5' }],
      [['zrange', 'K', 0, -1, 'rev'], { result: ['b', 'c', 'a'] }],
    ],
  ],
  [
    'Lua: nil from redis.call is false, numbers become strings, returns convert like Redis',
    [
      [['hset', 'K', 'f', 'v'], { result: 1 }],
      [
        ['eval', 'local b = redis.call("HMGET", KEYS[1], "x", "f") return {tostring(b[1]), b[2]}', 1, 'K'],
        { result: ['false', 'v'] },
      ],
      [['eval', 'return redis.call("GET", KEYS[1]) == false', 1, 'K:none'], { result: 1 }],
      [
        [
          'eval',
          'redis.call("SET", KEYS[1], 1.5) redis.call("SET", KEYS[2], 10) return {redis.call("GET", KEYS[1]), redis.call("GET", KEYS[2])}',
          2,
          'K:a',
          'K:b',
        ],
        { result: ['1.5', '10'] },
      ],
      [['eval', 'return {1, nil, 3}', 0], { result: [1] }],
      [['eval', 'return {3.99, -2.5, true, false}', 0], { result: [3, -2, 1, null] }],
      [['eval', 'return {ok="FINE"}', 0], { result: 'FINE' }],
      [['eval', 'return {err="MYERR boom"}', 0], { error: 'MYERR boom' }],
      [['eval', 'return', 0], { result: null }],
      [['eval', 'return redis.pcall("INCR", KEYS[1])["err"]', 1, 'K'], { result: WRONGTYPE.error }],
      [['eval', 'return #redis.call("HGETALL", KEYS[1])', 1, 'K'], { result: 2 }],
      [['hgetall', 'K'], { result: ['f', 'v'] }],
    ],
  ],
  [
    'EVAL_RO and EVALSHA_RO',
    [
      [['set', 'K', 'v'], { result: 'OK' }],
      [['eval_ro', 'return redis.call("GET", KEYS[1])', 1, 'K'], { result: 'v' }],
      [
        ['evalsha_ro', '2f6c3c0b2b5c6a7e42b7d8e3c4f4a2b0b1c8d9e0', 1, 'K'],
        { error: 'NOSCRIPT No matching script. Please use EVAL.' },
      ],
    ],
  ],
];

describe.each(BACKENDS)('bridge on $name, command semantics', ({ options }) => {
  const token = `commands-${randomUUID()}`;

  const bridge = useBridge({ ...options, token, log: () => {} });

  it.each(CASES)('%s', async (_, steps) => {
    const key = `test:bridge-commands:${randomUUID()}`;
    const commands = steps.map(([command]) =>
      command.map((arg) => (typeof arg === 'string' ? arg.replace(/^K(?=$|:)/, key) : arg)),
    );
    const res = await fetch(`${bridge().url}/pipeline`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(commands),
    });
    const outcomes = (await res.json()) as unknown[];
    steps.forEach(([command, expected], i) => {
      expect(outcomes[i], JSON.stringify(command)).toEqual(expected);
    });
  });
});
