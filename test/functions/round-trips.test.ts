import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { createGateway } from '../../functions/index';
import type { OPENAI_PROXY_POSTS } from '../../functions/openai-proxy';
import type { ConnectionPool } from '../../lib/connections';
import { createDeps, newIsolateState } from '../../lib/deps';
import { BUDGET_SETTLE } from '../../lib/scripts/budget';
import { KEY_LOOKUP } from '../../lib/scripts/keys';
import { METRICS_ADD } from '../../lib/scripts/metrics';
import { bindings, envWith } from '../support/env';
import { adminAuth, bearer, createTestKey } from '../support/keys';
import { simKey } from '../support/providers';
import { PRIVATE_PRICES } from './openai-proxy.support';

/**
 * The gateway with one isolate's state, counting the Redis HTTP requests each request makes on its way
 * to the response (`redis.use` sees only this gateway's clients, unlike the bridge's global counter).
 */
function countingGateway() {
  const isolate = newIsolateState();
  const counter = { redis: 0 };
  /** Redis requests and upstream calls in the order they left the gateway. */
  const events: string[] = [];
  /** Every Redis command sent, as [name, ...args]. */
  const commands: unknown[][] = [];
  /** The commands of each Redis request, in the order sent. */
  const requests: unknown[][][] = [];
  isolate.storeMiddleware = (req, next) => {
    counter.redis += 1;
    const body = req.body as unknown[];
    const sent = (Array.isArray(body[0]) ? body : [body]) as unknown[][];
    // A request carrying only metrics writes is told apart: they are amortised per isolate.
    events.push(
      sent.every((cmd) => cmd[1] === METRICS_ADD.sha1 || cmd[1] === METRICS_ADD.source)
        ? 'redis metrics'
        : 'redis',
    );
    commands.push(...sent);
    requests.push(sent);
    return next(req);
  };
  const app = createGateway((env) => {
    const deps = createDeps(env, isolate);
    // Observe (not replace) the upstream calls, which go out through the invocation's connection pool:
    // the real simulator still answers them.
    const pool = deps.connections;
    const observed: ConnectionPool = {
      run: (work, signal, lane) => pool.run(work, signal, lane),
      get active() {
        return pool.active;
      },
      get queued() {
        return pool.queued;
      },
      fetch: (timeoutMs?: number): typeof fetch => {
        const send = pool.fetch(timeoutMs);
        return (url, init) => {
          events.push(`upstream ${new URL(String(url)).pathname}`);
          return send(url, init);
        };
      },
    };
    for (const target of deps.providers()) target.connections = observed;
    return deps;
  });
  return { app, counter, events, commands, requests };
}

/** Redis round trips before the response (bookkeeping in waitUntil is counted separately). */
async function roundTrips(
  gateway: ReturnType<typeof countingGateway>,
  path: string,
  key: string,
  json: unknown,
  env: Cloudflare.Env,
) {
  const ctx = createExecutionContext();
  const before = gateway.counter.redis;
  const res = await gateway.app.request(
    path,
    {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify(json),
    },
    env,
    ctx,
  );
  const critical = gateway.counter.redis - before;
  await waitOnExecutionContext(ctx);
  return { res, critical };
}

/** One request through `gateway`, its waitUntil work awaited; a GET when `body` is undefined. */
async function sendThrough(
  gateway: ReturnType<typeof countingGateway>,
  env: Cloudflare.Env,
  path: string,
  authorization: string,
  body?: string,
) {
  const ctx = createExecutionContext();
  const res = await gateway.app.request(
    path,
    body === undefined
      ? { headers: { authorization } }
      : { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body },
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** Only key lookups (a read-only script, sent as source once where Redis lacks it). */
const isKeyLookup = (cmd: unknown[]) =>
  (cmd[0] === 'evalsha' && cmd[1] === KEY_LOOKUP.sha1) || (cmd[0] === 'eval' && cmd[1] === KEY_LOOKUP.source);

/** A valid body for each proxy POST route. */
const PROXY_BODIES: Record<(typeof OPENAI_PROXY_POSTS)[number], unknown> = {
  '/openai/v1/chat/completions': { model: 'gpt-6-luna', messages: [{ role: 'user', content: 'boots?' }] },
  '/openai/v1/responses': { model: 'gpt-6-luna', input: 'boots?' },
  '/openai/v1/embeddings': { model: 'text-embedding-3-large', input: 'boots' },
  '/openai/v1/moderations': { input: 'boots' },
  '/openai/v1/images/generations': { prompt: 'boots', size: '1024x1024' },
};

/**
 * Models of the test's own, priced: a breaker is shared by every test calling its model, and failures
 * another test records on it make this test's successes record (a Redis request inside a counted window).
 */
function ownModels() {
  const id = crypto.randomUUID().slice(0, 8);
  const text = `gpt-rt-${id}`;
  const image = `gpt-image-rt-${id}`;
  return {
    text,
    env: {
      OPENAI_TEXT_MODEL: text,
      OPENAI_IMAGE_MODEL: image,
      OPENAI_MODERATION_MODEL: `omni-moderation-${id}`,
      PRICING_OVERRIDES: JSON.stringify({
        [text]: PRIVATE_PRICES.text,
        [image]: PRIVATE_PRICES.image,
      }),
    },
  };
}

describe('Redis round trips on the critical path', () => {
  it.each([
    ['/v1/opportunities', { intent: 'trail running shoes for muddy winter routes' }],
    [
      '/v1/creatives',
      {
        opportunity: { id: 'opp_x', product_category: 'trail shoes', description: 'grippy shoes for mud' },
        target_audience: 'winter runners',
        brand_voice: 'bold and friendly',
        needs_visual: false,
      },
    ],
  ])('a cache hit on %s costs exactly one', async (path, json) => {
    const gateway = countingGateway();
    const { key } = await createTestKey({ rpm: 1000 });
    const env = envWith({ OPENAI_API_KEY: simKey() });
    const miss = await roundTrips(gateway, path, key, json, env);
    expect(miss.res.status).toBe(200);
    expect(miss.res.headers.get('x-cache')).toBe('MISS');
    const hit = await roundTrips(gateway, path, key, json, env);
    expect(hit.res.headers.get('x-cache')).toBe('HIT');
    expect(hit.critical).toBe(1);
  });

  it('cache hits cost one round trip in all: the isolate writes their metrics once per flush interval', async () => {
    const gateway = countingGateway();
    const { key } = await createTestKey({ rpm: 1000 });
    const namespace = `rt-${crypto.randomUUID().slice(0, 8)}`;
    const env = envWith({
      OPENAI_API_KEY: simKey(),
      METRICS_NAMESPACE: namespace,
      METRICS_FLUSH_SECONDS: '1',
    });
    const json = { intent: `hiking socks for wet weather ${uniqueWord()}` };
    const warm = await roundTrips(gateway, '/v1/opportunities', key, json, env);
    expect(warm.res.headers.get('x-cache')).toBe('MISS');

    const before = gateway.counter.redis;
    const afterResponse: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      const ctx = createExecutionContext();
      const res = await gateway.app.request(
        '/v1/opportunities',
        {
          method: 'POST',
          headers: { ...bearer(key), 'content-type': 'application/json' },
          body: JSON.stringify(json),
        },
        env,
        ctx,
      );
      expect(res.headers.get('x-cache')).toBe('HIT');
      afterResponse.push(waitOnExecutionContext(ctx));
    }
    await Promise.all(afterResponse);
    // Ten admissions with their lookups, and one metrics write for all ten.
    expect(gateway.counter.redis - before).toBe(11);

    // Nothing was lost on the way: every hit is counted.
    const metrics = await sendThrough(
      gateway,
      envWith({ METRICS_NAMESPACE: namespace }),
      '/v1/metrics?minutes=5&endpoint=/v1/opportunities',
      adminAuth.authorization,
    );
    const body = (await metrics.json()) as { requests: { total: number } };
    expect(body.requests.total).toBe(11);
  });

  it('a miss costs at most two before its first upstream call, and one between moderation and generation', async () => {
    const gateway = countingGateway();
    const { key } = await createTestKey({ rpm: 1000 });
    const env = envWith({ OPENAI_API_KEY: simKey(), ...ownModels().env });
    // Warm the isolate (the key's rpm, the upstream account's digest, the scripts in Redis).
    await roundTrips(gateway, '/v1/opportunities', key, { intent: 'warm up: rain jackets' }, env);
    gateway.events.length = 0;
    const miss = await roundTrips(gateway, '/v1/opportunities', key, { intent: 'trail shoes for mud' }, env);
    expect(miss.res.headers.get('x-cache')).toBe('MISS');
    const moderation = gateway.events.indexOf('upstream /v1/moderations');
    const generation = gateway.events.indexOf('upstream /v1/responses');
    expect(moderation).toBeGreaterThan(0);
    expect(gateway.events.slice(0, moderation)).toEqual(['redis', 'redis']);
    // The reservation, the generation's breaker permit and its upstream guard, in one round trip.
    expect(gateway.events.slice(moderation + 1, generation)).toEqual(['redis']);
  });

  it('a creative miss with an image costs at most two before its first upstream call and one between calls', async () => {
    const gateway = countingGateway();
    const { key } = await createTestKey({ rpm: 1000 });
    const env = envWith({ OPENAI_API_KEY: simKey(), ...ownModels().env });
    const creative = (audience: string) => ({
      opportunity: { id: 'opp_rt', product_category: 'rain boots', description: 'boots for wet commutes' },
      target_audience: audience,
      brand_voice: 'calm and practical',
      needs_visual: true,
    });
    // Warm the isolate (the key's rpm, the upstream account's digest, the scripts in Redis).
    await roundTrips(gateway, '/v1/creatives', key, creative(`warm ${uniqueWord()}`), env);
    gateway.events.length = 0;
    const miss = await roundTrips(
      gateway,
      '/v1/creatives',
      key,
      creative(`city walkers ${uniqueWord()}`),
      env,
    );
    expect(miss.res.status).toBe(200);
    expect(miss.res.headers.get('x-cache')).toBe('MISS');
    const calls = gateway.events.flatMap((e, i) => (e.startsWith('upstream') ? [i] : []));
    // Input moderation, copy, copy moderation, image, image moderation.
    expect(calls.map((i) => gateway.events[i])).toEqual([
      'upstream /v1/moderations',
      'upstream /v1/responses',
      'upstream /v1/moderations',
      'upstream /v1/images/generations',
      'upstream /v1/moderations',
    ]);
    expect(calls[0]).toBeLessThanOrEqual(2);
    const between = calls.slice(1).map((at, n) => at - (calls[n] as number) - 1);
    expect(between.every((redis) => redis <= 1)).toBe(true);
  });

  it.each([
    ['a proxied call', false],
    ['a proxied stream', true],
  ])(
    '%s costs one round trip before its upstream call (key, rate limit, reservation, breaker, guard) and one after (the settle)',
    async (_, stream) => {
      const gateway = countingGateway();
      const { key } = await createTestKey({ rpm: 1000 });
      const models = ownModels();
      const env = envWith({ OPENAI_API_KEY: simKey(), ...models.env });
      const body = (content: string) =>
        JSON.stringify({
          model: models.text,
          messages: [{ role: 'user', content }],
          ...(stream ? { stream: true } : {}),
        });
      // Warm the isolate (the key, the upstream account's digest, the scripts in Redis).
      // Read before waiting for the work after the response: a stream's settle waits for its end.
      const chat = async (json: string) => {
        const ctx = createExecutionContext();
        const res = await gateway.app.request(
          '/openai/v1/chat/completions',
          { method: 'POST', headers: { ...bearer(key), 'content-type': 'application/json' }, body: json },
          env,
          ctx,
        );
        await res.text();
        await waitOnExecutionContext(ctx);
        return res;
      };
      expect((await chat(body('warm'))).status).toBe(200);
      gateway.events.length = 0;
      expect((await chat(body('boots for rain?'))).status).toBe(200);
      const events = gateway.events.filter((e) => e !== 'redis metrics');
      const upstream = events.indexOf('upstream /v1/chat/completions');
      expect(events.slice(0, upstream)).toEqual(['redis']);
      expect(events.slice(upstream + 1)).toEqual(['redis']);
    },
  );

  it('a flood of requests with bad keys writes nothing to Redis: at most one key lookup each, no metrics', async () => {
    const gateway = countingGateway();
    const env = envWith({ OPENAI_API_KEY: simKey() });
    const unknown = `Bearer cag_${'C'.repeat(43)}`;
    const flood = [
      ...Array.from({ length: 10 }, () => ({ authorization: unknown, body: '{"intent":' })),
      ...Array.from({ length: 10 }, () => ({ authorization: unknown, body: '{"intent":"boots"}' })),
      ...Array.from({ length: 10 }, () => ({ authorization: 'Bearer not-a-key', body: '{}' })),
      ...Array.from({ length: 10 }, () => ({ authorization: '', body: '{}' })),
    ];
    const statuses = await Promise.all(
      flood.map(
        async ({ authorization, body }) =>
          (await sendThrough(gateway, env, '/v1/opportunities', authorization, body)).status,
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    // Only the unknown key's lookups, one per request that carried it; no metrics, no rate-limit state.
    expect(gateway.commands.filter((cmd) => !isKeyLookup(cmd))).toEqual([]);
    expect(gateway.commands.filter((cmd) => cmd[0] === 'evalsha').length).toBeLessThanOrEqual(20);
    expect(gateway.events.filter((e) => e.startsWith('upstream'))).toEqual([]);
  });

  it('a key revoked after the isolate admitted it writes nothing once found revoked, nor do bad keys on the proxy', async () => {
    const gateway = countingGateway();
    const env = envWith({ OPENAI_API_KEY: simKey() });
    const { key, id } = await createTestKey({ rpm: 1000 });
    const revoked = `Bearer ${key}`;
    expect((await sendThrough(gateway, env, '/openai/v1/models', revoked)).status).toBe(200);
    const revocation = await exports.default.fetch(`http://gateway/admin/keys/${id}`, {
      method: 'DELETE',
      headers: adminAuth,
    });
    expect(revocation.status).toBe(200);
    // The request that finds it revoked (its rate limit and cache lease ran beside the lookup).
    const chat = JSON.stringify(PROXY_BODIES['/openai/v1/chat/completions']);
    expect((await sendThrough(gateway, env, '/openai/v1/chat/completions', revoked, chat)).status).toBe(401);
    gateway.commands.length = 0;
    gateway.events.length = 0;

    const unknown = `Bearer cag_${'D'.repeat(43)}`;
    const flood: { path: string; authorization: string; body?: string }[] = [
      ...Object.entries(PROXY_BODIES).flatMap(([path, json]) =>
        [revoked, unknown, 'Bearer not-a-key', ''].flatMap((authorization) => [
          { path, authorization, body: JSON.stringify(json) },
          { path, authorization, body: '{"model":' },
        ]),
      ),
      ...[revoked, unknown, ''].map((authorization) => ({ path: '/openai/v1/models', authorization })),
    ];
    const statuses = await Promise.all(
      flood.map(async (r) => (await sendThrough(gateway, env, r.path, r.authorization, r.body)).status),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(gateway.commands.filter((cmd) => !isKeyLookup(cmd))).toEqual([]);
    const wellFormed = flood.filter((r) => r.authorization === revoked || r.authorization === unknown);
    expect(gateway.commands.filter((cmd) => cmd[0] === 'evalsha').length).toBeLessThanOrEqual(
      wellFormed.length,
    );
    expect(gateway.events.filter((e) => e.startsWith('upstream'))).toEqual([]);
  });

  it('a key Redis cannot check costs no metrics write: 503 store_unavailable after the one lookup', async () => {
    const gateway = countingGateway();
    const env = envWith({ OPENAI_API_KEY: simKey(), UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' });
    const chat = JSON.stringify(PROXY_BODIES['/openai/v1/chat/completions']);
    const res = await sendThrough(
      gateway,
      env,
      '/openai/v1/chat/completions',
      `Bearer cag_${'E'.repeat(43)}`,
      chat,
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('store_unavailable');
    // Tried (and failed): the lookup alone, not a metrics write after it.
    expect(gateway.commands.filter((cmd) => !isKeyLookup(cmd))).toEqual([]);
  });

  it('any other authenticated request costs one (key lookup and rate limit together)', async () => {
    const gateway = countingGateway();
    const { key } = await createTestKey();
    const env = envWith({});
    const get = async () => {
      const ctx = createExecutionContext();
      const before = gateway.counter.redis;
      const res = await gateway.app.request('/v1/nothing-here', { headers: bearer(key) }, env, ctx);
      const trips = gateway.counter.redis - before;
      await waitOnExecutionContext(ctx);
      return { status: res.status, trips, after: gateway.counter.redis - before - trips };
    };
    expect((await get()).trips).toBe(2); // first sight of the key in this isolate: lookup, then limit
    // One before the response; the request's metrics follow it in one more, after the response.
    expect(await get()).toEqual({ status: 404, trips: 1, after: 1 });
  });

  it('concurrent proxied calls write their settles together, and the ledger still matches the bill', async () => {
    const gateway = countingGateway();
    const sim = simKey();
    // The simulator's invoice prices gpt-6-luna; its shared breaker adds no settle.
    const env = envWith({ OPENAI_API_KEY: sim, BUDGET_SETTLE_HOLD_MS: '1000' });
    const isSettle = (cmd: unknown[]) =>
      (cmd[0] === 'evalsha' && cmd[1] === BUDGET_SETTLE.sha1) ||
      (cmd[0] === 'eval' && cmd[1] === BUDGET_SETTLE.source);
    const calls = 12;
    for (let round = 0; round < 3; round++) {
      const { key } = await createTestKey({ rpm: 1000 });
      const send = async (n: number | 'warm') => {
        const ctx = createExecutionContext();
        const res = await gateway.app.request(
          '/openai/v1/chat/completions',
          {
            method: 'POST',
            headers: { ...bearer(key), 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'gpt-6-luna',
              messages: [{ role: 'user', content: `boots for rain, take ${round}.${n} ${uniqueWord()}` }],
            }),
          },
          env,
          ctx,
        );
        await res.text();
        return { res, after: waitOnExecutionContext(ctx) };
      };
      // Warm the isolate (the key, the scripts in Redis): a settle is then one command.
      if (round === 0) await (await send('warm')).after;
      const sentBefore = gateway.commands.length;
      const requestsBefore = gateway.requests.length;
      const answered = await Promise.all(Array.from({ length: calls }, (_, n) => send(n)));
      expect(answered.map(({ res }) => res.status)).toEqual(Array(calls).fill(200));
      await Promise.all(answered.map(({ after }) => after));
      const sent = gateway.commands.slice(sentBefore);
      // Every call's settle was written: the calls overlapped, so the last to end wrote them together.
      expect(sent.filter(isSettle)).toHaveLength(calls);
      const withSettles = gateway.requests.slice(requestsBefore).filter((r) => r.some(isSettle)).length;
      expect(withSettles).toBeGreaterThanOrEqual(1);
      expect(withSettles).toBeLessThanOrEqual(calls / 3);
      // Nothing left reserved, and the ledger holds what the provider billed for these calls.
      const budget = await gateway.app.request(
        '/v1/budget',
        { headers: bearer(key) },
        env,
        createExecutionContext(),
      );
      const { spent_usd, reserved_usd } = (
        (await budget.json()) as { key: { spent_usd: number; reserved_usd: number } }
      ).key;
      expect(reserved_usd).toBe(0);
      const invoice = (await (await fetch(`${bindings.SIMULATOR_URL}/_sim/invoice?key=${sim}`)).json()) as {
        lines: { usd: number; request_id: string | null }[];
      };
      const ids = new Set(answered.map(({ res }) => res.headers.get('x-request-id')));
      const billed = invoice.lines.filter((l) => ids.has(l.request_id)).reduce((sum, l) => sum + l.usd, 0);
      expect(billed).toBeGreaterThan(0);
      expect(Math.abs(spent_usd - billed)).toBeLessThanOrEqual(Math.max(billed * 0.01, 0.0001));
    }
  });
});
