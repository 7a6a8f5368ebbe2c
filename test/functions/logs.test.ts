import { afterEach, describe, expect, it, vi } from 'vitest';
import { bindings } from '../support/env';
import { callGateway, freshCaller } from '../support/gateway';
import { ADMIN_KEY, adminAuth, bearer } from '../support/keys';
import { captureLogs } from '../support/logs';
import { simConfigure } from '../support/providers';

afterEach(() => vi.restoreAllMocks());

const INTENT = { intent: 'Waterproof hiking boots for a rainy autumn trip' };
const CREATIVE = {
  opportunity: { id: 'o1', product_category: 'boots', description: 'waterproof boots' },
  target_audience: 'hikers',
  brand_voice: 'warm and practical',
  needs_visual: false,
};

describe('structured logs', () => {
  it('writes one JSON line per request with its ids, route, outcome and cost, and never a secret', async () => {
    const scrapeToken = 'scrape-token-abcdefghijkl';
    const { post, sim, key, env } = await freshCaller('/v1/opportunities', {
      METRICS_SCRAPE_TOKEN: scrapeToken,
    });
    const secrets = [
      key,
      sim,
      ADMIN_KEY,
      scrapeToken,
      bindings.UPSTASH_REDIS_REST_TOKEN,
      bindings.OPENAI_API_KEY,
    ];
    const lines = await captureLogs(async () => {
      await post(INTENT);
      await post(INTENT);
      const call = (path: string, json?: unknown, headers = bearer(key)) =>
        callGateway(path, { ...(json === undefined ? {} : { json }), headers }, env);
      await call('/v1/creatives', CREATIVE);
      await call('/v1/creatives/batch', { items: [CREATIVE, { bad: true }] });
      await call('/v1/moderate', { text: `my key is ${key}` });
      await call('/v1/match', { intent: 'boots', candidates: [{ id: 'a', text: 'boots' }] });
      await call('/v1/budget');
      await call('/v1/metrics', undefined, adminAuth);
      await call('/metrics', undefined, { authorization: `Bearer ${scrapeToken}` });
      await call('/v1/budget', undefined, { authorization: `Bearer cag_${'x'.repeat(43)}` });
      await call('/admin/keys', undefined, bearer(key));
      // An upstream failure whose error the provider layer logs.
      await simConfigure(sim, { faults: [{ kind: 'status', status: 500, endpoint: '/v1/responses' }] });
      await call('/v1/opportunities', { intent: 'Rain jackets for cyclists' });
      // A configuration error names the variable, never the values around it.
      await callGateway('/v1/budget', { headers: bearer(key) }, {
        ...env,
        OPENAI_DAILY_BUDGET_USD: 'lots',
      } as never);
    });
    expect(lines.length).toBeGreaterThan(12);
    const text = JSON.stringify(lines);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/cag_[A-Za-z0-9_-]{20,}/);

    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(13);
    for (const r of requests) {
      expect(r).toMatchObject({
        level: 'info',
        request_id: expect.stringMatching(/^req_/),
        status: expect.any(Number),
      });
      expect(typeof r.route).toBe('string');
      expect(typeof r.duration_ms).toBe('number');
    }
    const miss = requests.find((r) => r.route === '/v1/opportunities' && r.cache === 'MISS');
    expect(miss).toMatchObject({
      key_id: expect.stringMatching(/^key_/),
      provider: 'openai',
      model: 'gpt-6-luna',
    });
    expect(miss?.cost_usd).toBeGreaterThan(0);
    // Its spend is logged under the request id its upstream calls sent, at what its usage cost.
    const settled = lines.filter((l) => l.msg === 'spend settled' && l.request_id === miss?.request_id);
    expect(settled).toHaveLength(1);
    expect(settled[0]?.cost_usd).toBeCloseTo(miss?.cost_usd as number, 9);
    expect(settled[0]).toMatchObject({ estimated: false, reserved_usd: expect.any(Number) });
    expect(settled[0]?.reserved_usd).toBeGreaterThan(settled[0]?.cost_usd as number);
    expect(requests.find((r) => r.route === '/v1/opportunities' && r.cache === 'HIT')).not.toHaveProperty(
      'cost_usd',
    );
    // Prompts and answers are not logged by default.
    expect(text).not.toContain('Waterproof hiking boots');
    expect(lines.some((l) => l.msg === 'model exchange')).toBe(false);
  });

  it('logs prompts and answers only when LOG_PROMPTS is on, still masking secrets', async () => {
    const { post, sim } = await freshCaller('/v1/opportunities', { LOG_PROMPTS: 'true' });
    const lines = await captureLogs(async () => {
      await post(INTENT);
    });
    const exchange = lines.find((l) => l.msg === 'model exchange');
    expect(exchange).toMatchObject({ task: 'opportunities', model: 'gpt-6-luna' });
    expect(JSON.stringify(exchange)).toContain('Waterproof hiking boots');
    expect(JSON.stringify(lines)).not.toContain(sim);
  });
});
