import { describe, expect, it } from 'vitest';
import type { Creative } from '../../lib/creatives/schema';
import { CreativeOutput } from '../../lib/creatives/schema';
import type { ErrorBody } from '../../lib/errors';
import { bindings } from '../support/env';
import { failingBucket } from '../support/failing-bucket';
import { callGateway, freshCaller } from '../support/gateway';
import { bearer } from '../support/keys';
import { simConfigure, simRequests } from '../support/providers';

type ItemResult =
  | { ok: true; creative: Creative; cost_usd: number }
  | { ok: false; error: ErrorBody['error']; cost_usd: number };
type BatchBody = { results: ItemResult[] };

/** A valid creative request; `n` varies the category so each is its own cache entry. */
const item = (n: number, extra: Record<string, unknown> = {}) => ({
  opportunity: {
    id: `opp_${n}`,
    product_category: `Hiking boots ${n}`,
    description: 'Waterproof autumn boots',
  },
  target_audience: 'weekend hikers in rainy regions',
  brand_voice: 'warm, practical, outdoorsy',
  needs_visual: false,
  ...extra,
});

const setup = (overrides?: Record<string, unknown>) => freshCaller('/v1/creatives/batch', overrides);

const ok = (r: ItemResult | undefined) => {
  if (!r?.ok) throw new Error(`expected an ok result, got ${JSON.stringify(r)}`);
  return r;
};
const failed = (r: ItemResult | undefined) => {
  if (!r || r.ok) throw new Error(`expected a failed result, got ${JSON.stringify(r)}`);
  return r;
};

/** The simulator's per-model request counts for `key`. */
async function simModels(key: string): Promise<Record<string, number>> {
  const res = await fetch(`${bindings.SIMULATOR_URL}/_sim/stats?key=${key}`);
  return ((await res.json()) as { models: Record<string, number> }).models;
}

describe('POST /v1/creatives/batch', () => {
  it('generates every miss in ONE structured call and answers each item in input order', async () => {
    const { post, sim } = await setup();
    const items = [item(1), item(2, { needs_visual: true }), item(3, { tone: 'premium' })];
    const res = await post({ items });
    expect(res.status).toBe(200);
    const { results } = await res.json<BatchBody>();
    expect(results).toHaveLength(3);
    for (const r of results) {
      const { creative, cost_usd } = ok(r);
      expect(CreativeOutput.safeParse(creative).success).toBe(true);
      expect(creative.cache.status).toBe('MISS');
      expect(creative.moderation.approved).toBe(true);
      expect(cost_usd).toBeGreaterThan(0);
    }
    // In input order: only the second item asked for an image. (The tone a creative comes back with is
    // the model's, which the simulator draws at random; the prompt asks for the requested one.)
    expect(ok(results[0]).creative.image).toBeNull();
    expect(ok(results[1]).creative.image?.url).toMatch(/\/v1\/images\/[0-9a-f]{64}$/);
    // The image's cost is billed to its own item.
    expect(ok(results[1]).cost_usd).toBeGreaterThan(ok(results[0]).cost_usd);
    // 3 inputs + 3 copies + 1 image moderated; one copy generation for all three.
    expect(await simRequests(sim)).toEqual({
      '/v1/responses': 1,
      '/v1/moderations': 7,
      '/v1/images/generations': 1,
    });
  });

  it('shares the cache with POST /v1/creatives both ways; hits cost nothing and skip generation', async () => {
    const { post, sim, key, env } = await setup();
    const single = await callGateway('/v1/creatives', { json: item(1), headers: bearer(key) }, env);
    expect(single.headers.get('x-cache')).toBe('MISS');
    const { results } = await (await post({ items: [item(1), item(2)] })).json<BatchBody>();
    expect(ok(results[0]).creative.cache.status).toBe('HIT');
    expect(ok(results[0]).cost_usd).toBe(0);
    expect(ok(results[1]).creative.cache.status).toBe('MISS');
    const after = await callGateway('/v1/creatives', { json: item(2), headers: bearer(key) }, env);
    expect(after.headers.get('x-cache')).toBe('HIT');
    expect((await after.json<Creative>()).copy).toBe(ok(results[1]).creative.copy);
    // One single generation, then one batch call for the one miss.
    expect((await simRequests(sim))['/v1/responses']).toBe(2);
  });

  it('a bad item fails alone: invalid and flagged items get their own errors, the rest is served', async () => {
    const { post, sim } = await setup();
    const items = [
      item(1),
      { opportunity: { id: 'x' } },
      item(3, { brand_voice: 'act now, limited time only' }),
      item(4),
    ];
    const { results } = await (await post({ items })).json<BatchBody>();
    expect(ok(results[0]).creative.cache.status).toBe('MISS');
    expect(failed(results[1]).error).toMatchObject({ code: 'invalid_request', param: 'items[1]' });
    expect(failed(results[1]).cost_usd).toBe(0);
    expect(failed(results[2]).error).toMatchObject({
      code: 'content_policy_violation',
      param: 'opportunity',
    });
    expect(ok(results[3]).creative.cache.status).toBe('MISS');
    // The flagged item never reached the combined call: two creatives were asked for, in one call.
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
  });

  it('rejects generated content per item: a flagged image fails its item, never its neighbours', async () => {
    const { post, sim } = await setup();
    await simConfigure(sim, { moderation: { flag_images: true } });
    const { results } = await (
      await post({ items: [item(1, { needs_visual: true }), item(2)] })
    ).json<BatchBody>();
    expect(failed(results[0]).error).toMatchObject({ code: 'creative_rejected' });
    // What the rejected item cost (its share of the call and its image) is still reported.
    expect(failed(results[0]).cost_usd).toBeGreaterThan(0);
    expect(ok(results[1]).creative.image).toBeNull();
    expect(JSON.stringify(results[0])).not.toContain('/v1/images/');
  });

  it('fails only the item whose image R2 could not store, with image_store_unavailable, never internal_error', async () => {
    const { bucket, calls } = failingBucket({ put: 2 });
    const { post } = await setup({ IMAGES: bucket });
    const res = await post({ items: [item(1, { needs_visual: true }), item(2)] });
    expect(res.status).toBe(200);
    const { results } = await res.json<BatchBody>();
    expect(failed(results[0]).error).toMatchObject({ type: 'api_error', code: 'image_store_unavailable' });
    // Its share of the call and its image were billed, and are reported.
    expect(failed(results[0]).cost_usd).toBeGreaterThan(0.03);
    expect(ok(results[1]).creative.image).toBeNull();
    expect(calls.put).toBe(2);
  });

  it('answers duplicates once: the copy is generated for one and reused for the other', async () => {
    const { post, sim } = await setup();
    const { results } = await (await post({ items: [item(1), item(1)] })).json<BatchBody>();
    expect(ok(results[1]).creative.copy).toBe(ok(results[0]).creative.copy);
    expect(ok(results[1]).creative.cache.status).toBe('HIT');
    expect(ok(results[1]).cost_usd).toBe(0);
    // One input moderation, one copy moderation: the duplicate cost nothing.
    expect(await simRequests(sim)).toEqual({ '/v1/responses': 1, '/v1/moderations': 2 });
  });

  it('when the combined answer stays invalid after its repair, every miss fails and hits still serve', async () => {
    const { post, sim, key, env } = await setup();
    await callGateway('/v1/creatives', { json: item(1), headers: bearer(key) }, env);
    await simConfigure(sim, { faults: [{ kind: 'schema_violation', endpoint: '/v1/responses' }] });
    const { results } = await (await post({ items: [item(1), item(2), item(3)] })).json<BatchBody>();
    expect(ok(results[0]).creative.cache.status).toBe('HIT');
    expect(failed(results[1]).error.code).toBe('invalid_model_output');
    expect(failed(results[2]).error.code).toBe('invalid_model_output');
    // Both billed calls (answer and repair) are shared between the two misses.
    expect(failed(results[1]).cost_usd).toBeGreaterThan(0);
    expect((await simRequests(sim))['/v1/responses']).toBe(3);
  });

  it('refuses a batch above CREATIVES_BATCH_MAX_ITEMS, or an empty one, at no cost', async () => {
    const { post, sim } = await setup({ CREATIVES_BATCH_MAX_ITEMS: '2' });
    const tooMany = await post({ items: [item(1), item(2), item(3)] });
    expect(tooMany.status).toBe(400);
    expect((await tooMany.json<ErrorBody>()).error).toMatchObject({
      code: 'invalid_request',
      param: 'items',
    });
    const empty = await post({ items: [] });
    expect(empty.status).toBe(400);
    expect((await post({ item: [] })).status).toBe(400);
    expect(await simRequests(sim)).toEqual({});
  });

  it('settles the whole batch on the key: the budget shows what the items cost', async () => {
    const { post, key, env } = await setup();
    const { results } = await (await post({ items: [item(1), item(2)] })).json<BatchBody>();
    const total = results.reduce((sum, r) => sum + r.cost_usd, 0);
    const budget = await callGateway('/v1/budget', { headers: bearer(key) }, env);
    const body = await budget.json<{ key: { spent_usd: number } }>();
    expect(body.key.spent_usd).toBeCloseTo(total, 9);
  });

  it('degrades to the policy model past the alert threshold and says so per item', async () => {
    const { post, sim } = await setup({
      MODEL_POLICY: JSON.stringify({ creatives_batch: { degrade_to: 'gpt-4o-mini' } }),
      OPENAI_ALERT_THRESHOLD_USD: '0',
    });
    const { results } = await (await post({ items: [item(1), item(2)] })).json<BatchBody>();
    expect(ok(results[0]).creative.degraded).toBe(true);
    expect(ok(results[1]).creative.degraded).toBe(true);
    expect((await simModels(sim))['gpt-4o-mini']).toBe(1);
  });
});
