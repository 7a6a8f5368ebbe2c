import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { creativeTask } from '../../lib/creatives/prompt';
import type { Creative } from '../../lib/creatives/schema';
import { CreativeOutput } from '../../lib/creatives/schema';
import { worstCaseStructured } from '../../lib/domain/cost';
import type { ErrorBody } from '../../lib/errors';
import { createPriceTable, usdToNanos as nanos } from '../../lib/pricing';
import { failingBucket } from '../support/failing-bucket';
import { callGateway, freshCaller } from '../support/gateway';
import { bearer } from '../support/keys';
import { captureLogs } from '../support/logs';
import { simConfigure, simRequests } from '../support/providers';
import { PRIVATE_PRICES, warmTokenizer } from './openai-proxy.support';

const REQUEST = {
  opportunity: {
    id: 'opp_1',
    product_category: 'Hiking boots',
    description: 'Waterproof boots for autumn walks',
  },
  target_audience: 'weekend hikers in rainy regions',
  brand_voice: 'warm, practical, outdoorsy',
  tone: 'playful',
};

/** A caller of POST /v1/creatives with its own client key and simulator account. */
const setup = (overrides?: Record<string, unknown>) => freshCaller('/v1/creatives', overrides);

// Loading the tokenizer takes the isolate's CPU for a second or more, once: not inside a timed test.
warmTokenizer();

describe('POST /v1/creatives', () => {
  it('returns moderated copy and a durable image served by the gateway', async () => {
    const { post, sim, env } = await setup();
    const res = await post(REQUEST);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(res.headers.get('x-gateway-provider')).toBe('openai');
    const creative = await res.json<Creative>();
    expect(CreativeOutput.safeParse(creative).success).toBe(true);
    expect(creative.moderation).toEqual({
      approved: true,
      checked: { openai: 'passed', business_rules: 'passed', brand_safety: 'passed' },
    });
    expect(creative.cache).toEqual({ status: 'MISS', key_version: 'cre-2:gpt-6-luna:gpt-image-2.5-flare' });
    expect(creative.image).toMatchObject({ model: 'gpt-image-2.5-flare', size: '1024x1024' });
    const url = new URL(creative.image?.url ?? '');
    expect(url.pathname).toBe(`/v1/images/${creative.image?.id}`);
    const image = await callGateway(url.pathname, {}, env);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('cache-control')).toContain('immutable');
    // Input, copy and image were each moderated; one copy and one image generation.
    expect(await simRequests(sim)).toEqual({
      '/v1/moderations': 3,
      '/v1/responses': 1,
      '/v1/images/generations': 1,
    });
  });

  it('reuses a creative across similar opportunities (same category, audience and voice): HIT', async () => {
    const { post, sim } = await setup();
    const first = await (await post(REQUEST)).json<Creative>();
    const similar = {
      ...REQUEST,
      opportunity: {
        id: 'opp_2',
        product_category: '  HIKING   boots',
        description: 'Different words entirely',
      },
      brand_voice: 'Warm, Practical, Outdoorsy',
    };
    const res = await post(similar);
    expect(res.headers.get('x-cache')).toBe('HIT');
    const again = await res.json<Creative>();
    expect(again.copy).toBe(first.copy);
    expect(again.image?.id).toBe(first.image?.id);
    expect(again.cache.status).toBe('HIT');
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
  });

  it('waits for a slow image as long as OPENAI_IMAGE_TIMEOUT_SECONDS, not the text timeout', async () => {
    // A private image model, so the image breaker these timeouts trip is this test's own.
    const model = `gpt-image-test-${crypto.randomUUID().slice(0, 8)}`;
    const settings = {
      OPENAI_IMAGE_MODEL: model,
      PRICING_OVERRIDES: JSON.stringify({
        [model]: PRIVATE_PRICES.image,
      }),
      OPENAI_TIMEOUT_SECONDS: '1',
      OPENAI_MAX_RETRIES: '0',
    };
    const slowImages = { latency_ms: { '/v1/images/generations': 1500 } };
    const patient = await setup({ ...settings, OPENAI_IMAGE_TIMEOUT_SECONDS: '10' });
    await simConfigure(patient.sim, slowImages);
    const served = await patient.post(REQUEST);
    expect(served.status).toBe(200);
    expect((await served.json<Creative>()).image).toMatchObject({ model });

    const hasty = await setup({ ...settings, OPENAI_IMAGE_TIMEOUT_SECONDS: '1' });
    await simConfigure(hasty.sim, slowImages);
    const timedOut = await hasty.post({ ...REQUEST, brand_voice: 'calm, expert' });
    expect(timedOut.status).toBe(504);
    expect((await timedOut.json<ErrorBody>()).error.code).toBe('upstream_timeout');
    expect((await simRequests(hasty.sim))['/v1/images/generations']).toBe(1);
  });

  it('generates a creative whose image outlasts the single-flight lease once, while 20 identical requests wait', async () => {
    // Scaled down: a lease of 2.4 s (renewed every 0.8 s while the leader works) and an image of 5 s,
    // as a 90 s lease and a 190 s image would be; without renewal, a waiter takes over and generates.
    // (Shorter leases would test how long a busy test runtime stalls an isolate's timers.)
    const { post, sim } = await setup({ CACHE_LEASE_MS: '2400', OPENAI_IMAGE_TIMEOUT_SECONDS: '10' });
    await simConfigure(sim, { latency_ms: { '/v1/images/generations': 5000 } });
    const request = { ...REQUEST, target_audience: `hikers ${uniqueWord()}`, needs_visual: true };
    const answers = await Promise.all(Array.from({ length: 21 }, () => post(request)));
    expect(answers.map((r) => r.status)).toEqual(Array(21).fill(200));
    const bodies = await Promise.all(answers.map((r) => r.json<Creative>()));
    expect(new Set(bodies.map((b) => b.image?.id)).size).toBe(1);
    expect(bodies.map((b) => b.cache.status).sort()).toEqual([...Array(20).fill('COALESCED'), 'MISS']);
    expect(await simRequests(sim)).toMatchObject({ '/v1/responses': 1, '/v1/images/generations': 1 });
  });

  it('charges a creative whose copy timed out for its copy attempts, never for the image it did not make', async () => {
    const { post, sim, key, env } = await setup({ OPENAI_TIMEOUT_SECONDS: '1' });
    await simConfigure(sim, { faults: [{ kind: 'timeout', endpoint: '/v1/responses', times: 2 }] });
    const res = await post({
      ...REQUEST,
      target_audience: `hikers ${uniqueWord()}`,
      needs_visual: true,
    });
    // Each timed-out attempt reserved again before the next; the third made the creative.
    expect(res.status).toBe(200);
    expect(await simRequests(sim)).toMatchObject({ '/v1/responses': 3, '/v1/images/generations': 1 });
    const failing = await setup({ OPENAI_TIMEOUT_SECONDS: '1', OPENAI_MAX_RETRIES: '0' });
    await simConfigure(failing.sim, { faults: [{ kind: 'timeout', endpoint: '/v1/responses' }] });
    const timedOut = await failing.post({
      ...REQUEST,
      target_audience: `hikers ${uniqueWord()}`,
      needs_visual: true,
    });
    expect(timedOut.status).toBe(504);
    const budgetOf = async (caller: { key: string; env: Cloudflare.Env }) =>
      (
        await (
          await callGateway('/v1/budget', { headers: bearer(caller.key) }, caller.env)
        ).json<{
          key: { spent_usd: number; reserved_usd: number };
        }>()
      ).key;
    const served = await budgetOf({ key, env });
    const charged = await budgetOf(failing);
    expect(charged.reserved_usd).toBe(0);
    expect(served.reserved_usd).toBe(0);
    // One abandoned copy attempt, charged exactly the worst case of a first copy call: a fraction of the
    // medium image ($0.03) its reservation also held.
    const request = { ...REQUEST, target_audience: 'x', needs_visual: true };
    const worst = await worstCaseStructured(createPriceTable(), ['gpt-6-luna'], {
      ...creativeTask(request as Parameters<typeof creativeTask>[0]),
      reasoningEffort: 'low',
    });
    expect(nanos(charged.spent_usd)).toBeGreaterThan(0);
    expect(Math.abs(nanos(charged.spent_usd) - worst.attempt.first)).toBeLessThanOrEqual(
      worst.attempt.first * 0.02,
    );
    expect(charged.spent_usd).toBeLessThan(0.01);
    // The served one paid its image and two abandoned copy attempts on top.
    expect(served.spent_usd).toBeGreaterThan(0.03 + 2 * charged.spent_usd);
  });

  it('answers 503 image_store_unavailable, never a 500, when R2 fails to store the image twice; the image is still charged', async () => {
    const { bucket, calls } = failingBucket({ put: 2 });
    const { post, sim, env, key } = await setup({ IMAGES: bucket });
    const request = { ...REQUEST, target_audience: `hikers ${uniqueWord()}`, needs_visual: true };
    let res = new Response();
    const logs = await captureLogs(async () => {
      res = await post(request);
    });
    expect(res.status).toBe(503);
    // The first failure was retried, and said so.
    expect(logs.filter((line) => line.msg === 'image store call failed; trying it once more')).toMatchObject([
      { level: 'warn', operation: 'store an image' },
    ]);
    expect(res.headers.get('retry-after')).toBe('1');
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({ type: 'api_error', code: 'image_store_unavailable' });
    expect(calls.put).toBe(2);
    expect(await simRequests(sim)).toMatchObject({ '/v1/responses': 1, '/v1/images/generations': 1 });
    const budget = await (await callGateway('/v1/budget', { headers: bearer(key) }, env)).json<{
      key: { spent_usd: number; reserved_usd: number };
    }>();
    // The copy and the image the provider billed are charged; nothing stays reserved.
    expect(budget.key.reserved_usd).toBe(0);
    expect(budget.key.spent_usd).toBeGreaterThan(0.03);
    // Nothing was cached: the same request, once R2 answers, generates and stores the creative.
    const again = await post(request);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-cache')).toBe('MISS');
    expect((await again.json<Creative>()).image?.url).toMatch(/\/v1\/images\/[0-9a-f]{64}$/);
  });

  it('generates no image when needs_visual is false', async () => {
    const { post, sim } = await setup();
    const res = await post({ ...REQUEST, needs_visual: false });
    expect(res.status).toBe(200);
    expect((await res.json<Creative>()).image).toBeNull();
    expect((await simRequests(sim))['/v1/images/generations']).toBeUndefined();
  });

  it('rejects copy that fails brand safety with 422 creative_rejected, and never caches it', async () => {
    // The simulator's copy says "Target audience" (it draws words from the prompt's input, labels
    // included); the client's text never says "target".
    const { post } = await setup({ MODERATION_RULES: JSON.stringify({ blocked_terms: ['target'] }) });
    const res = await post(REQUEST);
    expect(res.status).toBe(422);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({ code: 'creative_rejected' });
    expect(error.details).toMatchObject({
      layer: 'brand_safety',
      pattern: 'target',
    });
    expect((await post(REQUEST)).headers.get('x-cache')).toBeNull();
  });

  it('rejects an image that moderation flags: 422, no image stored or returned', async () => {
    const { post, sim } = await setup();
    await simConfigure(sim, { moderation: { flag_images: true } });
    const res = await post(REQUEST);
    expect(res.status).toBe(422);
    const { error } = await res.json<ErrorBody>();
    expect(error.details).toMatchObject({ layer: 'openai' });
    expect(JSON.stringify(error)).not.toContain('/v1/images/');
    expect((await simRequests(sim))['/v1/images/generations']).toBe(1);
    // Rejected work is not cached: the next identical request generates again.
    expect((await post(REQUEST)).status).toBe(422);
    expect((await simRequests(sim))['/v1/images/generations']).toBe(2);
  });

  it('fails closed with 503 when the moderation API is down, before generating anything', async () => {
    const { post, sim } = await setup({ OPENAI_MAX_RETRIES: '0' });
    await simConfigure(sim, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/moderations' }] });
    const res = await post(REQUEST);
    expect(res.status).toBe(503);
    expect((await res.json<ErrorBody>()).error.code).toBe('provider_unavailable');
    expect((await simRequests(sim))['/v1/responses']).toBeUndefined();
  });

  it('with MODERATION_FAIL_CLOSED=false, serves what the local layers pass and says OpenAI was unavailable', async () => {
    const { post, sim } = await setup({ OPENAI_MAX_RETRIES: '0', MODERATION_FAIL_CLOSED: 'false' });
    await simConfigure(sim, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/moderations' }] });
    const res = await post({ ...REQUEST, needs_visual: false });
    expect(res.status).toBe(200);
    expect((await res.json<Creative>()).moderation.checked).toEqual({
      openai: 'unavailable',
      business_rules: 'passed',
      brand_safety: 'passed',
    });
  });

  it('refuses client text a business rule flags: 400, no generation', async () => {
    const { post, sim } = await setup();
    const res = await post({ ...REQUEST, brand_voice: 'act now, limited time only' });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'content_policy_violation' });
    expect(await simRequests(sim)).toEqual({});
  });

  it.each([
    [{ ...REQUEST, tone: 'angry' }, 'tone'],
    [
      { ...REQUEST, opportunity: { ...REQUEST.opportunity, description: 'x'.repeat(501) } },
      'opportunity.description',
    ],
    [{ ...REQUEST, target_audience: '' }, 'target_audience'],
    [{ ...REQUEST, needs_visual: 'yes' }, 'needs_visual'],
    [{ opportunity: REQUEST.opportunity }, 'target_audience'],
  ])('rejects an invalid request with 400 naming %s, at no cost', async (json, param) => {
    const { post, sim } = await setup();
    const res = await post(json);
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.param).toBe(param);
    expect(await simRequests(sim)).toEqual({});
  });
});
