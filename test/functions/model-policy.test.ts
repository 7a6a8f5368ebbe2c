import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { worstCaseStructured } from '../../lib/domain/cost';
import type { OpportunitiesResponse } from '../../lib/domain/opportunities';
import { opportunitiesTask } from '../../lib/domain/opportunities-prompt';
import type { ErrorBody } from '../../lib/errors';
import { createPriceTable } from '../../lib/pricing';
import { bindings, envWith } from '../support/env';
import { callGateway, freshCaller } from '../support/gateway';
import { adminAuth, bearer, createTestKey } from '../support/keys';
import { simConfigure, simKey, simRequests } from '../support/providers';

const INTENT = 'Waterproof hiking boots for a rainy autumn trip in Scotland';

const setup = (overrides?: Record<string, unknown>) => freshCaller('/v1/opportunities', overrides);

async function simModels(key: string): Promise<Record<string, number>> {
  const res = await fetch(`${bindings.SIMULATOR_URL}/_sim/stats?key=${key}`);
  return ((await res.json()) as { models: Record<string, number> }).models;
}

const policy = (value: unknown) => ({ MODEL_POLICY: JSON.stringify(value) });

describe('model policy', () => {
  it("serves a task on its policy model, which joins the cache key's version", async () => {
    const { post, sim } = await setup(policy({ opportunities: { model: 'gpt-4.1-mini' } }));
    const res = await post({ intent: INTENT });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model')).toBe('gpt-4.1-mini');
    expect(res.headers.get('x-gateway-degraded')).toBeNull();
    expect(await simModels(sim)).toMatchObject({ 'gpt-4.1-mini': 1 });
  });

  it('degrades to the cheaper model once spend passes the alert threshold, and says so (also when cached)', async () => {
    const { post, sim } = await setup({
      ...policy({ opportunities: { degrade_to: 'gpt-4o-mini' } }),
      OPENAI_ALERT_THRESHOLD_USD: '0',
    });
    const res = await post({ intent: INTENT });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-degraded')).toBe('spend-threshold');
    expect(res.headers.get('x-gateway-model')).toBe('gpt-4o-mini');
    expect((await res.json<OpportunitiesResponse & { degraded?: boolean }>()).degraded).toBe(true);
    const hit = await post({ intent: INTENT });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('x-gateway-degraded')).toBe('spend-threshold');
    expect(await simModels(sim)).toMatchObject({ 'gpt-4o-mini': 1 });
    expect((await simModels(sim))['gpt-6-luna']).toBeUndefined();
  });

  it('does not degrade below the threshold, nor without a degrade_to', async () => {
    const below = await setup({
      ...policy({ opportunities: { degrade_to: 'gpt-4o-mini' } }),
      OPENAI_ALERT_THRESHOLD_USD: '1000',
      OPENAI_DAILY_BUDGET_USD: '1000',
    });
    const res = await below.post({ intent: INTENT });
    expect(res.headers.get('x-gateway-degraded')).toBeNull();
    expect(res.headers.get('x-gateway-model')).toBe('gpt-6-luna');
    const off = await setup({ OPENAI_ALERT_THRESHOLD_USD: '0' });
    expect((await off.post({ intent: INTENT })).headers.get('x-gateway-degraded')).toBeNull();
  });

  it('serves on the cheaper model instead of refusing when only it fits the remaining budget', async () => {
    const prices = createPriceTable();
    const task = opportunitiesTask({ intent: INTENT, context: {} } as never);
    const [full, cheap] = await Promise.all([
      worstCaseStructured(prices, ['gpt-6-astra'], task).then((w) => w.total),
      worstCaseStructured(prices, ['gpt-6-luna'], task).then((w) => w.total),
    ]);
    expect(cheap * 4).toBeLessThan(full);
    // A key budget between the two worst cases.
    const { key } = await createTestKey({ daily_budget_usd: (cheap * 2) / 1e9 });
    const sim = simKey();
    const env = envWith({
      OPENAI_API_KEY: sim,
      ...policy({ opportunities: { model: 'gpt-6-astra', degrade_to: 'gpt-6-luna' } }),
      OPENAI_ALERT_THRESHOLD_USD: '1000',
      OPENAI_DAILY_BUDGET_USD: '1000',
    });
    const res = await callGateway(
      '/v1/opportunities',
      { json: { intent: INTENT }, headers: bearer(key) },
      env,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model')).toBe('gpt-6-luna');
    expect(res.headers.get('x-gateway-degraded')).toBe('spend-threshold');
    // Without a cheaper model the same request is refused, at no cost.
    const strict = envWith({
      OPENAI_API_KEY: simKey(),
      ...policy({ opportunities: { model: 'gpt-6-astra' } }),
    });
    const { key: other } = await createTestKey({ daily_budget_usd: (cheap * 2) / 1e9 });
    const refused = await callGateway(
      '/v1/opportunities',
      { json: { intent: INTENT }, headers: bearer(other) },
      strict,
    );
    expect(refused.status).toBe(429);
    expect((await refused.json<ErrorBody>()).error.code).toBe('budget_exceeded');
  });

  it('refuses an invalid MODEL_POLICY as misconfigured, naming the setting only in the logs', async () => {
    const { post, sim } = await setup({ MODEL_POLICY: '{"opportunities":{"modle":"x"}}' });
    const res = await post({ intent: INTENT });
    expect(res.status).toBe(500);
    expect((await res.json<ErrorBody>()).error.code).toBe('misconfigured');
    expect(await simRequests(sim)).toEqual({});
  });
});

describe('prompt variants', () => {
  /** Variant names of their own, because the daily counters are shared by every test. */
  const variants = () => {
    const tag = uniqueWord(8);
    const names = { control: `control-${tag}`, gifts: `gifts-${tag}` };
    const config = {
      opportunities: [
        { name: names.control, weight: 1 },
        { name: names.gifts, weight: 1, instructions: 'Prefer opportunities that make good gifts.' },
      ],
    };
    return { names, env: { PROMPT_VARIANTS: JSON.stringify(config) } };
  };

  type Row = { name: string; weight: number | null; generated: number; rejected: number; cost_usd: number };
  async function report(env: Cloudflare.Env): Promise<Record<string, Row>> {
    const res = await callGateway('/admin/variants?days=2', { headers: adminAuth }, env);
    expect(res.status).toBe(200);
    const body = await res.json<{ tasks: { opportunities: Row[] } }>();
    return Object.fromEntries(body.tasks.opportunities.map((r) => [r.name, r]));
  }

  it('keeps each variant in its own cache entry; the same request meets the same variant', async () => {
    const { names, env } = variants();
    const { post, sim } = await setup(env);
    const forced = (name: string) => post({ intent: INTENT }, { 'x-gateway-variant': name });
    expect((await forced(names.control)).headers.get('x-cache')).toBe('MISS');
    expect((await forced(names.gifts)).headers.get('x-cache')).toBe('MISS');
    expect((await forced(names.control)).headers.get('x-cache')).toBe('HIT');
    // Unforced: sticky by the request's fields, so it is one of the two entries above.
    expect((await post({ intent: INTENT })).headers.get('x-cache')).toBe('HIT');
    expect((await simRequests(sim))['/v1/responses']).toBe(2);
  });

  it('spreads distinct requests over the variants by weight', async () => {
    const { names, env } = variants();
    const { post, env: gateway } = await setup(env);
    await Promise.all(Array.from({ length: 16 }, (_, i) => post({ intent: `${INTENT}, option ${i}` })));
    const rows = await report(gateway);
    const [a, b] = [rows[names.control]?.generated ?? 0, rows[names.gifts]?.generated ?? 0];
    expect(a + b).toBe(16);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  });

  it('reports generations, rejections and cost per variant', async () => {
    const { names, env } = variants();
    const { post, sim, env: gateway } = await setup(env);
    await post({ intent: INTENT }, { 'x-gateway-variant': names.gifts });
    await simConfigure(sim, { faults: [{ kind: 'schema_violation', endpoint: '/v1/responses' }] });
    const bad = await post({ intent: `${INTENT} again` }, { 'x-gateway-variant': names.gifts });
    expect(bad.status).toBe(502);
    const rows = await report(gateway);
    expect(rows[names.gifts]).toMatchObject({ weight: 1, generated: 2, rejected: 1, rejection_rate: 0.5 });
    expect(rows[names.gifts]?.cost_usd).toBeGreaterThan(0);
    expect(rows[names.control]).toMatchObject({ generated: 0, rejected: 0, cost_usd: 0 });
  });

  it('refuses an unknown forced variant with 400 unknown_variant, at no cost', async () => {
    const { env } = variants();
    const { post, sim } = await setup(env);
    const res = await post({ intent: INTENT }, { 'x-gateway-variant': 'nope' });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({
      code: 'unknown_variant',
      param: 'x-gateway-variant',
    });
    expect(await simRequests(sim)).toEqual({});
  });

  it('the report needs the admin key', async () => {
    const { key } = await createTestKey();
    const res = await callGateway('/admin/variants', { headers: bearer(key) }, envWith({}));
    expect(res.status).toBe(403);
  });
});
