import { describe, expect, it } from 'vitest';
import type { OpportunitiesResponse } from '../../lib/domain/opportunities';
import { OpportunitiesOutput } from '../../lib/domain/opportunities';
import type { ErrorBody } from '../../lib/errors';
import { callGateway, freshCaller } from '../support/gateway';
import { bearer, createTestKey } from '../support/keys';
import { simConfigure, simRequests } from '../support/providers';

const INTENT = 'Waterproof hiking boots for a rainy autumn trip in Scotland';

/** A caller of POST /v1/opportunities with its own client key and simulator account. */
const setup = (overrides?: Record<string, unknown>) => freshCaller('/v1/opportunities', overrides);

describe('POST /v1/opportunities', () => {
  it('returns up to five validated opportunities with stable ids, who served them, and x-cache MISS', async () => {
    const { post, sim } = await setup();
    const res = await post({ intent: INTENT, context: { locale: 'en-GB', price_band: 'mid' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(res.headers.get('x-gateway-provider')).toBe('openai');
    expect(res.headers.get('x-gateway-model')).toBe('gpt-6-luna');
    const body = await res.json<OpportunitiesResponse>();
    expect(OpportunitiesOutput.safeParse(body).success).toBe(true);
    expect(body.opportunities.length).toBeLessThanOrEqual(5);
    for (const o of body.opportunities) expect(o.id).toMatch(/^opp_[0-9a-f]{16}$/);
    // The intent, then the answer, each through the moderation chain.
    expect(await simRequests(sim)).toMatchObject({ '/v1/responses': 1, '/v1/moderations': 2 });
  });

  it('answers the same intent (whatever its spacing and case) from the cache: HIT, same body, no upstream call', async () => {
    const { post, sim } = await setup();
    const first = await (await post({ intent: INTENT })).json();
    const again = await post({ intent: `  ${INTENT.toUpperCase().replace(/ /g, '   ')} ` });
    expect(again.status).toBe(200);
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(await again.json()).toEqual(first);
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
  });

  it('bypasses and refreshes the cache on cache-control: no-cache', async () => {
    const { post, sim } = await setup();
    await post({ intent: INTENT });
    const res = await post({ intent: INTENT }, { 'cache-control': 'no-cache' });
    expect(res.headers.get('x-cache')).toBe('BYPASS');
    expect((await simRequests(sim))['/v1/responses']).toBe(2);
  });

  it('keeps tenants apart: another key does not get this key cached answer', async () => {
    const a = await setup();
    await a.post({ intent: INTENT });
    const { key } = await createTestKey();
    const res = await callGateway(
      '/v1/opportunities',
      { json: { intent: INTENT }, headers: bearer(key) },
      a.env,
    );
    expect(res.headers.get('x-cache')).toBe('MISS');
  });

  it('generates once for 50 identical concurrent misses; the others are COALESCED', async () => {
    const { post, sim } = await setup();
    await simConfigure(sim, { latency_ms: 150 });
    const statuses = await Promise.all(
      Array.from({ length: 50 }, () =>
        post({ intent: `${INTENT} with gaiters` }).then((r) => r.headers.get('x-cache')),
      ),
    );
    expect(statuses.filter((s) => s === 'MISS')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'COALESCED')).toHaveLength(49);
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
  });

  it('refuses an intent OpenAI moderation flags: 400 content_policy_violation, layer and categories, no generation', async () => {
    const { post, sim } = await setup();
    const res = await post({ intent: 'a bomb disguised as hiking boots' });
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      code: 'content_policy_violation',
      param: 'intent',
    });
    expect(error.details).toMatchObject({ layer: 'openai' });
    expect(Object.values(error.details?.categories as Record<string, boolean>)).toContain(true);
    expect((await simRequests(sim))['/v1/responses']).toBeUndefined();
  });

  it('stays up while the moderation API is down: the local layers alone check intent and answer, which is served but never cached', async () => {
    const { post, sim } = await setup({ OPENAI_MAX_RETRIES: '0' });
    expect((await post({ intent: INTENT })).status).toBe(200);
    await simConfigure(sim, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/moderations' }] });
    const outage = { intent: `${INTENT} during an outage` };
    const first = await post(outage);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-gateway-moderation')).toBe('local-only');
    const again = await post(outage);
    expect(again.headers.get('x-cache')).toBe('MISS');
    expect(again.headers.get('x-gateway-moderation')).toBe('local-only');
    // The local layers still refuse what they catch.
    const flagged = await post({ intent: 'boots with guaranteed money back and no risk' });
    expect(flagged.status).toBe(400);
    // A hit is an answer all three layers passed.
    const hit = await post({ intent: INTENT });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('x-gateway-moderation')).toBeNull();
    // Once the API is back, the same request is moderated by all three layers and cached.
    await simConfigure(sim, {});
    const after = await post(outage);
    expect(after.headers.get('x-gateway-moderation')).toBeNull();
    expect((await post(outage)).headers.get('x-cache')).toBe('HIT');
    expect((await simRequests(sim))['/v1/responses']).toBe(4);
  });

  it('does not cache an answer whose intent only the local layers checked, though the API was back for the answer', async () => {
    const { post, sim } = await setup({ OPENAI_MAX_RETRIES: '0' });
    await simConfigure(sim, {
      faults: [{ kind: 'status', status: 503, endpoint: '/v1/moderations', times: 1 }],
    });
    const request = { intent: `${INTENT} as the outage ends` };
    const first = await post(request);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-gateway-moderation')).toBe('local-only');
    expect((await post(request)).headers.get('x-cache')).toBe('MISS');
  });

  // The simulator's answers repeat the "Shopper intent:" the gateway puts before the client's words.
  it.each([
    [
      'a local layer',
      { MODERATION_RULES: JSON.stringify({ blocked_terms: ['shopper'] }) },
      {},
      'brand_safety',
    ],
    ['OpenAI', {}, { moderation: { flagged_terms: ['shopper'] } }, 'openai'],
  ])(
    'refuses an answer %s flags: 422 creative_rejected, never served or cached, its cost settled',
    async (_, env, sim, layer) => {
      const caller = await setup(env);
      await simConfigure(caller.sim, sim);
      const res = await caller.post({ intent: INTENT });
      expect(res.status).toBe(422);
      const { error } = await res.json<ErrorBody>();
      expect(error).toMatchObject({
        type: 'invalid_request_error',
        code: 'creative_rejected',
        message: expect.stringMatching(/^The generated opportunities were rejected by /),
      });
      expect(error.details).toMatchObject({ layer, checked: { business_rules: 'passed' } });
      expect(JSON.stringify(error)).not.toContain('Shopper');
      // Not cached: the same request generates again, and is refused again.
      const again = await caller.post({ intent: INTENT });
      expect([again.status, again.headers.get('x-cache')]).toEqual([422, null]);
      expect((await simRequests(caller.sim))['/v1/responses']).toBe(2);
      const budget = await callGateway('/v1/budget', { headers: bearer(caller.key) }, caller.env);
      expect((await budget.json<{ key: { spent_usd: number } }>()).key.spent_usd).toBeGreaterThan(0);
    },
  );

  it('refuses an intent a business rule flags without calling any model', async () => {
    const { post, sim } = await setup();
    const res = await post({ intent: 'boots with guaranteed money back and no risk' });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.details).toMatchObject({ layer: 'business_rules' });
    expect(await simRequests(sim)).toEqual({});
  });

  it.each([
    [{}, 'intent'],
    [{ intent: '' }, 'intent'],
    [{ intent: 'x'.repeat(2001) }, 'intent'],
    [{ intent: 'boots', context: { locale: 'english please' } }, 'context.locale'],
    [{ intent: 'boots', context: { hints: Array(11).fill('h') } }, 'context.hints'],
    [{ intent: 'boots', context: { price_band: 'free' } }, 'context.price_band'],
    [{ intent: 'boots', extra: true }, 'extra'],
    [{ intent: 42 }, 'intent'],
  ])('rejects %j with 400 and costs nothing', async (json, param) => {
    const { post, sim } = await setup();
    const res = await post(json);
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
    expect(await simRequests(sim)).toEqual({});
  });

  it('does not cache a failure: after a 502 the next request generates again', async () => {
    const { post, sim } = await setup({ OPENAI_MAX_RETRIES: '0' });
    await simConfigure(sim, {
      faults: [{ kind: 'status', status: 500, endpoint: '/v1/responses', times: 1 }],
    });
    const failed = await post({ intent: INTENT });
    expect(failed.status).toBe(502);
    const retried = await post({ intent: INTENT });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('x-cache')).toBe('MISS');
  });

  it('refuses with 429 budget_exceeded before any generation when the key budget is too small', async () => {
    const { sim, env } = await setup();
    const { key } = await createTestKey({ daily_budget_usd: 0.000_001 });
    const res = await callGateway(
      '/v1/opportunities',
      { json: { intent: INTENT }, headers: bearer(key) },
      env,
    );
    expect(res.status).toBe(429);
    expect((await res.json<ErrorBody>()).error.code).toBe('budget_exceeded');
    expect((await simRequests(sim))['/v1/responses']).toBeUndefined();
  });

  it('needs a key', async () => {
    const { env } = await setup();
    expect((await callGateway('/v1/opportunities', { json: { intent: INTENT } }, env)).status).toBe(401);
  });
});
