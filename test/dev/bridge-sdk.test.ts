import { randomUUID } from 'node:crypto';
import { Redis, type RedisConfigNodejs } from '@upstash/redis';
import { beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, useBridge } from '../support/node/bridge-fixture.ts';

// The same conformance suite against a real Redis (REDIS_URL, else a spawned redis-server; FAILS when
// neither exists) and against the embedded store. Clients keep the SDK defaults: base64, auto-pipelining.

describe.each(BACKENDS)('bridge on $name, through @upstash/redis', ({ options }) => {
  const token = `sdk-${randomUUID()}`;
  let redis: Redis;
  const newPrefix = () => `test:bridge-sdk:${randomUUID()}`;
  const client = (extra: Partial<RedisConfigNodejs> = {}) =>
    new Redis({ url: bridge().url, token, ...extra });

  const bridge = useBridge({ ...options, token, log: () => {} });
  beforeEach(() => {
    redis ??= client();
  });

  describe('single commands', () => {
    it('sets with ex/nx/get and reads back, honouring NX and the TTL', async () => {
      const k = `${newPrefix()}:k`;
      expect(await redis.set(k, 'first', { ex: 100, nx: true })).toBe('OK');
      expect(await redis.set(k, 'second', { ex: 100, nx: true })).toBeNull();
      expect(await redis.set(k, 'third', { ex: 200, get: true })).toBe('first');
      expect(await redis.get(k)).toBe('third');
      const ttl = await redis.ttl(k);
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(200);
      expect(await redis.get(`${k}:missing`)).toBeNull();
    });

    it('increments integers and floats, and reads counters back as numbers', async () => {
      const p = newPrefix();
      expect(await redis.incr(`${p}:n`)).toBe(1);
      expect(await redis.incrby(`${p}:n`, 41)).toBe(42);
      expect(await redis.get(`${p}:n`)).toBe(42);
      expect(await redis.incrbyfloat(`${p}:f`, 1.5)).toBe(1.5);
      expect(await redis.incrbyfloat(`${p}:f`, 0.25)).toBe(1.75);
    });

    it('writes and reads hashes, counts deletes and reads many keys with mget', async () => {
      const p = newPrefix();
      expect(await redis.hset(`${p}:h`, { name: 'shoe', qty: 3 })).toBe(2);
      expect(await redis.hgetall(`${p}:h`)).toEqual({ name: 'shoe', qty: 3 });
      expect(await redis.hincrby(`${p}:h`, 'qty', 2)).toBe(5);
      expect(await redis.hget(`${p}:h`, 'qty')).toBe(5);
      await redis.set(`${p}:a`, 'x');
      await redis.set(`${p}:b`, 'y');
      expect(await redis.mget(`${p}:a`, `${p}:missing`, `${p}:b`)).toEqual(['x', null, 'y']);
      expect(await redis.exists(`${p}:a`, `${p}:b`, `${p}:missing`)).toBe(2);
      expect(await redis.del(`${p}:a`, `${p}:b`, `${p}:missing`)).toBe(2);
      expect(await redis.hgetall(`${p}:none`)).toBeNull();
    });

    it('round-trips objects as JSON, unicode, binary-ish strings and numeric-looking strings', async () => {
      const p = newPrefix();
      const order = { id: 'o-1', items: [{ sku: 'A', qty: 2 }], note: 'naïve café ✓', paid: true };
      await redis.set(`${p}:obj`, order);
      expect(await redis.get(`${p}:obj`)).toEqual(order);
      const unicode = 'héllo wörld 🌍 日本語 \u0000 ctrl\u0001\u007f "quotes" \\ back';
      await redis.set(`${p}:u`, unicode);
      expect(await redis.get(`${p}:u`)).toBe(unicode);
      await redis.set(`${p}:z`, '0123');
      expect(await redis.get(`${p}:z`)).toBe('0123');
      await redis.set(`${p}:big`, '101600000000150081467');
      expect(await redis.get(`${p}:big`)).toBe('101600000000150081467');
      await redis.set(`${p}:ok`, 'OK');
      expect(await redis.mget(`${p}:ok`, `${p}:z`)).toEqual(['OK', '0123']);
    });

    it('works with sets, sorted sets and key expiry', async () => {
      const p = newPrefix();
      expect(await redis.sadd(`${p}:s`, 'a', 'b')).toBe(2);
      expect((await redis.smembers(`${p}:s`)).sort()).toEqual(['a', 'b']);
      expect(await redis.smismember(`${p}:s`, ['a', 'z'])).toEqual([1, 0]);
      expect(await redis.zadd(`${p}:z`, { score: 1, member: 'one' }, { score: 2, member: 'two' })).toBe(2);
      expect(await redis.zincrby(`${p}:z`, 5, 'one')).toBe(6);
      expect(await redis.zrange(`${p}:z`, 0, -1, { withScores: true })).toEqual(['two', 2, 'one', 6]);
      expect(await redis.pexpire(`${p}:z`, 50_000)).toBe(1);
      const pttl = await redis.pttl(`${p}:z`);
      expect(pttl).toBeGreaterThan(40_000);
      expect(pttl).toBeLessThanOrEqual(50_000);
      expect(await redis.ping()).toBe('PONG');
    });

    it('surfaces Redis errors with their prefix', async () => {
      const p = newPrefix();
      await redis.hset(`${p}:h`, { a: 1 });
      await expect(redis.incr(`${p}:h`)).rejects.toThrow(/WRONGTYPE Operation against a key/);
      await expect(client({ enableAutoPipelining: false }).incr(`${p}:h`)).rejects.toThrow(/^WRONGTYPE/);
    });
  });

  describe('explicit pipelines and transactions', () => {
    it('runs a pipeline in order and returns every result', async () => {
      const p = newPrefix();
      const results = await redis
        .pipeline()
        .set(`${p}:k`, 'v')
        .incr(`${p}:n`)
        .incr(`${p}:n`)
        .get(`${p}:k`)
        .hset(`${p}:h`, { f: 'x' })
        .hget(`${p}:h`, 'f')
        .exec();
      expect(results).toEqual(['OK', 1, 2, 'v', 1, 'x']);
    });

    it('keeps per-command errors in a pipeline with keepErrors, and throws without it', async () => {
      const p = newPrefix();
      await redis.hset(`${p}:h`, { a: 1 });
      const results = await redis
        .pipeline()
        .set(`${p}:k`, '1')
        .incr(`${p}:h`)
        .incr(`${p}:k`)
        .exec({ keepErrors: true });
      expect(results[0]).toEqual({ result: 'OK', error: undefined });
      expect(results[1]?.error).toMatch(/^WRONGTYPE/);
      expect(results[2]).toEqual({ result: 2, error: undefined });
      await expect(redis.pipeline().incr(`${p}:h`).exec()).rejects.toThrow(
        /Command 1 \[ incr \] failed: WRONGTYPE/,
      );
    });

    it('runs multi-exec atomically and reports a runtime error as that entry only', async () => {
      const p = newPrefix();
      await redis.hset(`${p}:h`, { a: 1 });
      expect(await redis.multi().set(`${p}:k`, 'v').incr(`${p}:n`).get(`${p}:k`).exec()).toEqual([
        'OK',
        1,
        'v',
      ]);
      const results = await redis
        .multi()
        .incr(`${p}:n`)
        .incr(`${p}:h`)
        .incr(`${p}:n`)
        .exec({ keepErrors: true });
      expect(results.map((r) => r.result)).toEqual([2, undefined, 3]);
      expect(results[1]?.error).toMatch(/^WRONGTYPE/);
    });

    it('keeps concurrent transactions isolated from each other', async () => {
      const k = `${newPrefix()}:n`;
      const runs = await Promise.all(
        Array.from({ length: 20 }, () => client().multi().incr(k).incr(k).incr(k).exec()),
      );
      for (const [a, b, c] of runs) expect([b - a, c - b]).toEqual([1, 1]);
      expect(runs.map(([a]) => a).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, i) => 3 * i + 1),
      );
      expect(await redis.get(k)).toBe(60);
    });

    it('discards the whole transaction when a command fails while queueing (EXECABORT)', async () => {
      const p = newPrefix();
      // MGET without keys is an arity error, which Redis reports while queueing.
      await expect(redis.multi().set(`${p}:k`, 'v').mget().exec()).rejects.toThrow(/EXECABORT/);
      expect(await redis.get(`${p}:k`)).toBeNull();
    });
  });

  describe('scripts', () => {
    it('createScript falls back from EVALSHA to EVAL on NOSCRIPT, then hits EVALSHA', async () => {
      const p = newPrefix();
      // A comment unique to this test makes the script (and its SHA) new to Redis.
      const script = redis.createScript<number>(
        `-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`,
      );
      await expect(script.evalsha([`${p}:n`], ['5'])).rejects.toThrow(/NOSCRIPT/);
      expect(await script.exec([`${p}:n`], ['5'])).toBe(5);
      expect(await script.evalsha([`${p}:n`], ['5'])).toBe(10);
      expect(await script.exec([`${p}:n`], ['1'])).toBe(11);
    });

    it('converts Lua values like Redis: tables to arrays, true to 1, false to nil, strings base64-safe', async () => {
      const result = await redis.eval('return {1, "two", true, false, {"nested", 3}}', [], []);
      expect(result).toEqual([1, 'two', 1, null, ['nested', 3]]);
      expect(await redis.eval('return "OK"', [], [])).toBe('OK');
      expect(await redis.eval('return ARGV[1] .. ARGV[2]', [], ['é', 7])).toBe('é7');
    });

    it('runs scripts that carry the Upstash-only allow-key-locking flag', async () => {
      const p = newPrefix();
      const source = `#!lua flags=allow-key-locking\n-- ${randomUUID()}\nreturn redis.call('INCR', KEYS[1])`;
      const script = redis.createScript<number>(source);
      expect(await script.exec([`${p}:n`], [])).toBe(1);
      expect(await script.evalsha([`${p}:n`], [])).toBe(2);
      expect(await redis.scriptExists(script.sha1)).toEqual([1]);
    });
  });

  describe('client settings', () => {
    it('serves raw strings when base64 is off (responseEncoding: false)', async () => {
      const p = newPrefix();
      const plain = client({ responseEncoding: false });
      await plain.set(`${p}:u`, 'héllo 🌍');
      expect(await plain.get(`${p}:u`)).toBe('héllo 🌍');
      expect(await plain.ping()).toBe('PONG');
      expect(await plain.pipeline().set(`${p}:k`, 'v').get(`${p}:k`).exec()).toEqual(['OK', 'v']);
      expect(await plain.eval('return {"a", 1}', [], [])).toEqual(['a', 1]);
    });

    it('sends one request per command with auto-pipelining off, and batches reads with it on', async () => {
      const p = newPrefix();
      await redis.set(`${p}:a`, '1');
      const direct = client({ enableAutoPipelining: false });
      const before = bridge().stats().requests;
      await Promise.all([direct.get(`${p}:a`), direct.get(`${p}:b`), direct.get(`${p}:c`)]);
      expect(bridge().stats().requests - before).toBe(3);
      const batched = bridge().stats().requests;
      expect(await Promise.all([redis.get(`${p}:a`), redis.get(`${p}:b`), redis.get(`${p}:c`)])).toEqual([
        1,
        null,
        null,
      ]);
      expect(bridge().stats().requests - batched).toBe(1);
    });

    it('rejects a wrong token: the SDK throws WRONGPASS', async () => {
      const intruder = new Redis({ url: bridge().url, token: 'wrong-token' });
      await expect(intruder.get('anything')).rejects.toThrow(/WRONGPASS invalid or missing auth token/);
      const direct = new Redis({ url: bridge().url, token: 'wrong-token', enableAutoPipelining: false });
      await expect(direct.set('anything', 'x')).rejects.toThrow(/WRONGPASS/);
    });
  });
});
