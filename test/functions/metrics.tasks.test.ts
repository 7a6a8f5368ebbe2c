import { describe, expect, it } from 'vitest';
import type { MetricsSummary } from '../../lib/metrics/summary';
import { callGateway, freshCaller } from '../support/gateway';
import { adminAuth, bearer } from '../support/keys';
import { simConfigure } from '../support/providers';

/** Metrics of its own: the minute buckets are shared by every test file otherwise. */
const namespace = () => `t-${crypto.randomUUID().slice(0, 12)}`;

async function summary(env: Cloudflare.Env): Promise<MetricsSummary> {
  const res = await callGateway('/v1/metrics?minutes=5', { headers: adminAuth }, env);
  expect(res.status).toBe(200);
  return res.json<MetricsSummary>();
}

async function scrape(env: Cloudflare.Env): Promise<string> {
  const res = await callGateway('/metrics', { headers: adminAuth }, env);
  expect(res.status).toBe(200);
  return res.text();
}

/** A valid creative request; `n` varies the category so each is its own cache entry. */
const creative = (n: number) => ({
  opportunity: { id: `opp_${n}`, product_category: `Hiking boots ${n}`, description: 'Waterproof boots' },
  target_audience: 'weekend hikers in rainy regions',
  brand_voice: 'warm, practical, outdoorsy',
  needs_visual: false,
});

describe('token efficiency per task', () => {
  it('counts creative misses and a batch per task: calls, tokens, cost, approved creatives; hits add nothing', async () => {
    const { post, key, env } = await freshCaller('/v1/creatives', { METRICS_NAMESPACE: namespace() });
    expect((await post(creative(1))).headers.get('x-cache')).toBe('MISS');
    expect((await post(creative(1))).headers.get('x-cache')).toBe('HIT');
    expect((await post(creative(2))).headers.get('x-cache')).toBe('MISS');
    const batch = await callGateway(
      '/v1/creatives/batch',
      { json: { items: [creative(3), creative(4), creative(5), creative(1)] }, headers: bearer(key) },
      env,
    );
    expect(batch.headers.get('x-batch-served')).toBe('4');

    const s = await summary(env);
    const one = s.by_task.find((t) => t.task === 'creative');
    const together = s.by_task.find((t) => t.task === 'creatives');
    expect(one).toMatchObject({ calls: 2, approved_results: 2 });
    // The batch's three misses in one call; its fourth item was a hit.
    expect(together).toMatchObject({ calls: 1, approved_results: 3 });
    for (const row of [one, together]) {
      if (!row) throw new Error('missing task row');
      expect(row.input_tokens).toBeGreaterThan(0);
      expect(row.output_tokens).toBeGreaterThan(0);
      expect(row.cached_share).toBe(row.cached_tokens / row.input_tokens);
      expect(row.cost_per_approved_result).toBeCloseTo(row.cost_usd / row.approved_results, 12);
    }
    // Every priced call made copy (moderation is free and there are no images): the tasks' costs
    // are the whole cost.
    const taskCost = s.by_task.reduce((sum, t) => sum + t.cost_usd, 0);
    expect(taskCost).toBeGreaterThan(0);
    expect(taskCost).toBeCloseTo(s.total_cost_usd, 9);

    const text = await scrape(env);
    expect(text).toContain('cag_task_approved_results_total{task="creative"} 2');
    expect(text).toContain('cag_task_approved_results_total{task="creatives"} 3');
    expect(text).toContain('cag_task_calls_total{task="creatives"} 1');
    expect(text).toContain(`cag_task_tokens_total{task="creative",type="input"} ${one?.input_tokens}`);
    expect(text).toContain(`cag_task_tokens_total{task="creative",type="output"} ${one?.output_tokens}`);
    expect(text).toMatch(/cag_task_cost_usd_total\{task="creative"\} [0-9.e-]+/);
  });

  it('counts reasoning tokens and one opportunity set per fresh generation', async () => {
    const { post, sim, env } = await freshCaller('/v1/opportunities', { METRICS_NAMESPACE: namespace() });
    await simConfigure(sim, { profile: 'realistic', time_scale: 0.001, reasoning_tokens: 40 });
    const intent = { intent: 'Waterproof hiking boots for a rainy autumn trip' };
    expect((await post(intent)).headers.get('x-cache')).toBe('MISS');
    expect((await post(intent)).headers.get('x-cache')).toBe('HIT');

    const row = (await summary(env)).by_task.find((t) => t.task === 'opportunities');
    expect(row).toMatchObject({ calls: 1, approved_results: 1, reasoning_tokens: 40 });
    expect(row?.output_tokens).toBeGreaterThan(40);
    expect(await scrape(env)).toContain('cag_task_tokens_total{task="opportunities",type="reasoning"} 40');
  });
});
