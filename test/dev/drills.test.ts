import { readdirSync, readFileSync } from 'node:fs';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badInputCorpus, CORPUS_ROUTES } from '../../bench/drills/bad-input-corpus.ts';
import { PROXY_ROUTES } from '../../bench/drills/bad-input-proxy.ts';
import { ROUTES } from '../../bench/drills/bad-input-routes.ts';
import { runBudgetRace } from '../../bench/drills/budget-race.ts';
import { openRedisCounter } from '../../bench/drills/redis-commands.ts';
import { type Stack, startStack } from '../../bench/lib/stack.ts';
import { startRedisServer } from '../../dev/bridge/index.ts';

describe('bad-input corpus (bench/drills/bad-input-corpus.ts)', () => {
  const corpus = badInputCorpus({
    client: 'cag_client',
    admin: 'drill-admin-key-0123',
    revoked: 'cag_revoked',
  });

  it('yields at least 200 distinct malformed requests covering every route', () => {
    const distinct = new Set(
      corpus.map((c) => JSON.stringify([c.method, c.path, c.headers, c.rawHeaderLines, String(c.body)])),
    );
    expect(distinct.size).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((c) => c.id)).size).toBe(corpus.length);
    expect(new Set(corpus.map((c) => c.route))).toEqual(new Set(CORPUS_ROUTES.map((r) => r.route)));
    expect(CORPUS_ROUTES).toEqual([...ROUTES, ...PROXY_ROUTES]);
    for (const route of ['POST /v1/creatives/batch', 'POST /v1/batches', 'DELETE /admin/keys/:id']) {
      expect(corpus.filter((c) => c.route === route).length).toBeGreaterThan(5);
    }
  });

  it('covers every route the OpenAI-compatible proxy mounts, each model-taking one with unknown models', () => {
    // The paths functions/openai-*.ts register (read as text: those modules are bundled for workerd).
    const mounted = new Set<string>();
    for (const file of readdirSync('functions').filter((f) => f.startsWith('openai-'))) {
      const source = readFileSync(`functions/${file}`, 'utf8');
      for (const [, path] of source.matchAll(/\.(?:get|post)\(\s*'(\/openai\/v1\/[^']+)'/g))
        mounted.add(path as string);
    }
    expect(mounted.size).toBeGreaterThanOrEqual(7);
    expect(new Set(PROXY_ROUTES.map((r) => r.route.split(' ')[1]))).toEqual(mounted);
    for (const spec of PROXY_ROUTES.filter((r) => r.method === 'POST')) {
      expect(corpus.some((c) => c.id === `${spec.route} body: unknown model`)).toBe(true);
      expect(corpus.some((c) => c.id === `${spec.route} body: nested 65 deep (one past the limit)`)).toBe(
        true,
      );
    }
  });

  it('expects a 4xx for every case and breaks every text field past its limit', () => {
    expect(corpus.every((c) => c.expect.every((s) => s >= 400 && s < 500))).toBe(true);
    expect(corpus.some((c) => c.id.includes('over MAX_BODY_BYTES') && c.expect.includes(413))).toBe(true);
    for (const spec of CORPUS_ROUTES) {
      for (const field of Object.keys(spec.textFields ?? {})) {
        expect(
          corpus.some(
            (c) => c.id === `${spec.route} body: ${field} sql over ${spec.textFields?.[field]} chars`,
          ),
        ).toBe(true);
      }
    }
  });
});

describe('Redis command counter (bench/drills/redis-commands.ts)', () => {
  it('counts the commands scripts run, as reads or writes by their flags, and leaves its own out', async () => {
    const server = await startRedisServer({ log: () => {} });
    const [counter, other] = [await openRedisCounter(server.url), await openRedisCounter(server.url)];
    try {
      const before = await counter.snapshot();
      await other.snapshot(); // an INFO: neither a read nor a write
      const client = new IORedis(server.url);
      await client.eval("return redis.call('HMGET', KEYS[1], 'a')", 1, 'k');
      await client.eval("return redis.call('HSET', KEYS[1], 'a', 1)", 1, 'k');
      await client.set('s', '1', 'NX');
      await client.set('s', '1', 'NX'); // a write that changes nothing
      client.disconnect();
      const cost = await counter.diff(before, await counter.snapshot());
      expect(cost).toMatchObject({ writes: 3, reads: 1, changes: 2 });
      expect(cost.by_command).toEqual({
        eval: { calls: 2, kind: 'other' },
        hmget: { calls: 1, kind: 'read' },
        hset: { calls: 1, kind: 'write' },
        set: { calls: 2, kind: 'write' },
      });
    } finally {
      await Promise.all([counter.close(), other.close()]);
      await server.stop();
    }
  });
});

describe('budget race (bench/drills/budget-race.ts), 20 concurrent requests', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 90_000);
  afterAll(() => stack?.stop(), 30_000);

  it('spends at most the key budget, leaves nothing reserved and refuses only with budget_exceeded', async () => {
    const race = await runBudgetRace(stack, { requests: 20 }).catch((err: Error) => {
      throw new Error(`${err.message}\nthe gateway logged:\n${stack.gatewayErrors().join('\n')}`);
    });
    expect(race.spentUsd).toBeLessThanOrEqual(race.budgetUsd);
    expect(race.overspendUsd).toBe(0);
    expect(race.reservedUsd).toBe(0);
    expect(race.other).toEqual({});
    expect(race.admitted + race.refused).toBe(20);
    expect(race.refused).toBeGreaterThan(0);
  }, 60_000);
});
