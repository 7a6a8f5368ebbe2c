import { Redis } from '@upstash/redis/cloudflare';
import { describe, expect, it } from 'vitest';
import { runScript } from '../../lib/scripts/run';
import { batchCommands } from '../../lib/store-batch';
import { bindings } from '../support/env';
import { countingClient } from '../support/redis';

const prefix = () => `test:batch:${crypto.randomUUID()}`;

describe('batchCommands', () => {
  it('sends the commands of one turn as one pipeline, reads and writes together, in the order issued', async () => {
    const { redis, requests } = countingClient();
    const p = prefix();
    const results = await Promise.all([
      redis.set(`${p}:a`, 'one'),
      redis.get(`${p}:a`),
      redis.incr(`${p}:n`),
      redis.incr(`${p}:n`),
      redis.hset(`${p}:h`, { f: '{"x":1}' }),
      redis.hget(`${p}:h`, 'f'),
    ]);
    // Each command parses its own reply as the SDK defines (a JSON string comes back an object).
    expect(results).toEqual(['OK', 'one', 1, 2, 1, { x: 1 }]);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.map((c) => (c as string[])[0])).toEqual([
      'set',
      'get',
      'incr',
      'incr',
      'hset',
      'hget',
    ]);
  });

  it('starts a new batch for what is issued after a round trip, and caps a batch at 1,000 commands', async () => {
    const { redis, requests } = countingClient();
    const p = prefix();
    await redis.set(`${p}:a`, '1');
    expect(await redis.get(`${p}:a`)).toBe(1);
    expect(requests).toHaveLength(2);
    const many = await Promise.all(Array.from({ length: 1001 }, () => redis.incr(`${p}:many`)));
    // Two requests in flight at once, as the SDK's auto-pipeline sends them: order across them is Redis's.
    expect([...many].sort((a, b) => a - b)).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
    expect(requests.slice(2).map((r) => r.length)).toEqual([1000, 1]);
  });

  it("fails only the command Redis refused, with Redis's message", async () => {
    const { redis, requests } = countingClient();
    const p = prefix();
    await redis.hset(`${p}:h`, { f: 'v' });
    const [refused, fine] = await Promise.allSettled([redis.incr(`${p}:h`), redis.hget(`${p}:h`, 'f')]);
    expect(refused.status).toBe('rejected');
    expect(String((refused as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    expect(fine).toEqual({ status: 'fulfilled', value: 'v' });
    expect(requests).toHaveLength(2);
  });

  it('fails every command of a request that failed, each with its error', async () => {
    const redis = new Redis({
      url: bindings.UPSTASH_REDIS_REST_URL,
      token: 'not-the-token',
      retry: { retries: 0 },
      enableTelemetry: false,
      enableAutoPipelining: false,
    });
    redis.use(batchCommands());
    const settled = await Promise.allSettled([redis.get('a'), redis.incr('b'), redis.ping()]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const reasons = settled.map((s) => String((s as PromiseRejectedResult).reason));
    expect(new Set(reasons).size).toBe(1);
    expect(reasons[0]).toMatch(/unauthori[sz]ed|token/i);
  });

  it('sends explicit pipelines and transactions as they are, beside the batch', async () => {
    const { redis, requests } = countingClient();
    const p = prefix();
    const [piped, single, tx] = await Promise.all([
      redis.pipeline().set(`${p}:a`, 'x').get(`${p}:a`).exec(),
      redis.incr(`${p}:n`),
      redis.multi().incr(`${p}:t`).incr(`${p}:t`).exec(),
    ]);
    expect([piped, single, tx]).toEqual([['OK', 'x'], 1, [1, 2]]);
    // The pipeline, the transaction and the one-command batch: three requests.
    expect(requests).toHaveLength(3);
  });

  it("runs a script Redis does not have by its source, the NOSCRIPT error reaching the script's caller", async () => {
    const { redis, requests } = countingClient();
    const source = `return '${crypto.randomUUID()}'`;
    const sha1 = [...new Uint8Array(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(source)))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    const script = { name: 'batch-test', source, sha1 };
    const first = await runScript<string>(redis, script, [], []);
    expect(first).toBe(source.slice(8, -1));
    expect(requests.map((r) => (r[0] as string[])[0])).toEqual(['evalsha', 'eval']);
    expect(await runScript<string>(redis, script, [], [])).toBe(first);
    expect(requests).toHaveLength(3);
  });
});
