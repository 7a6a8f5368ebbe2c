import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../functions/index';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import type { ErrorBody } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import type { MetricsSummary } from '../../lib/metrics/summary';
import { monitor } from '../../lib/monitoring';
import { envWith } from '../support/env';
import { callGateway, freshCaller } from '../support/gateway';
import { adminAuth, bearer } from '../support/keys';
import { simConfigure, simRequests } from '../support/providers';

afterEach(() => vi.restoreAllMocks());

/** Metrics of its own: the minute buckets are shared by every test file otherwise. */
const namespace = () => `t-${crypto.randomUUID().slice(0, 12)}`;

type Summary = MetricsSummary & {
  breakers: { name: string; state: string }[];
  budget: { spent_usd: number; limit_usd: number };
};

async function summary(env: Cloudflare.Env, query = 'minutes=5'): Promise<Summary> {
  const res = await callGateway(`/v1/metrics?${query}`, { headers: adminAuth }, env);
  expect(res.status).toBe(200);
  return res.json<Summary>();
}

const INTENT = { intent: 'Waterproof hiking boots for a rainy autumn trip' };
const FLAGGED_CREATIVE = {
  opportunity: { id: 'o1', product_category: 'boots', description: 'waterproof boots' },
  target_audience: 'hikers',
  brand_voice: 'act now, limited time only',
};

describe('GET /v1/metrics', () => {
  it('summarises what the gateway did: requests, cache, upstream calls, cost, moderation, latency', async () => {
    const { post, sim, key, env } = await freshCaller('/v1/opportunities', {
      METRICS_NAMESPACE: namespace(),
    });
    expect((await post(INTENT)).headers.get('x-cache')).toBe('MISS');
    expect((await post(INTENT)).headers.get('x-cache')).toBe('HIT');
    const creatives = (json: unknown) => callGateway('/v1/creatives', { json, headers: bearer(key) }, env);
    expect((await creatives(FLAGGED_CREATIVE)).status).toBe(400);
    expect((await creatives({ opportunity: {} })).status).toBe(400);
    // Probes and the metrics themselves are not counted.
    await callGateway('/health', {}, env);

    const s = await summary(env);
    expect(s.requests.total).toBe(4);
    expect(s.requests.by_status).toMatchObject({ '2xx': 2, '4xx': 2 });
    expect(s.requests.cache).toMatchObject({ HIT: 1, MISS: 1 });
    expect(s.requests.cache_hit_rate).toBe(0.5);
    expect(s.requests.errors).toEqual({ content_policy_violation: 1, invalid_request: 1 });
    // Every upstream call the simulator saw, and nothing else.
    const upstream = Object.values(await simRequests(sim)).reduce((a, b) => a + b, 0);
    expect(s.total_calls).toBe(upstream);
    expect(s).toMatchObject({ status: 'healthy', success_rate: 1, successful_calls: upstream });
    expect(s.latency_ms.p50).not.toBeNull();
    // Cost is priced from usage exactly as the budget settles it.
    const budget = await (await callGateway('/v1/budget', { headers: bearer(key) }, env)).json<{
      key: { spent_usd: number };
    }>();
    expect(s.total_cost_usd).toBeGreaterThan(0);
    expect(s.total_cost_usd).toBeCloseTo(budget.key.spent_usd, 9);
    expect(s.cost_per_success).toBeCloseTo(s.total_cost_usd / upstream, 12);
    expect(s.tokens.input).toBeGreaterThan(0);
    // The miss's intent and answer, and the flagged creative text.
    expect(s.moderation).toMatchObject({ checked: 3, rejected: 1, rejected_by_layer: { business_rules: 1 } });
    expect(s.by_endpoint.map((e) => e.endpoint).sort()).toEqual(['/v1/creatives', '/v1/opportunities']);
    expect(s.by_endpoint.find((e) => e.endpoint === '/v1/opportunities')).toMatchObject({
      requests: 2,
      calls: upstream,
    });
    expect(s.series).toHaveLength(5);
    expect(s.series.reduce((n, m) => n + m.requests, 0)).toBe(4);
    expect(s.breakers).toContainEqual({ name: 'openai:gpt-6-luna', state: expect.any(String) });
    expect(s.budget.limit_usd).toBe(100);

    // The 24 h window reads hourly rollups (lib/metrics/window.ts) and shows the same figures.
    // (The /v1/budget call above counts by now: compare with the 5 minutes read again.)
    const recent = await summary(env);
    const day = await summary(env, 'minutes=1440');
    const figures = (m: Summary) => ({ ...m, window: null, series: null, breakers: null, budget: null });
    expect(figures(day)).toEqual(figures(recent));
    expect(day.series.length).toBeLessThanOrEqual(25);
    expect(day.series.reduce((n, m) => n + m.minutes, 0)).toBe(1440);
    expect(day.series.reduce((n, m) => n + m.requests, 0)).toBe(recent.requests.total);

    const onlyCreatives = await summary(env, 'minutes=5&endpoint=/v1/creatives');
    expect(onlyCreatives.requests.total).toBe(2);
    expect(onlyCreatives.total_calls).toBe(0);
  });

  it('needs the admin key and validates its query, at no cost', async () => {
    const { key, env } = await freshCaller('/v1/metrics');
    const asClient = await callGateway('/v1/metrics', { headers: bearer(key) }, env);
    expect(asClient.status).toBe(403);
    const bad = await callGateway('/v1/metrics?minutes=0', { headers: adminAuth }, env);
    expect(bad.status).toBe(400);
    expect((await bad.json<ErrorBody>()).error.param).toBe('minutes');
  });
});

describe('GET /metrics (Prometheus)', () => {
  it('exposes running totals and gauges to the admin key or the scrape token, no one else', async () => {
    const token = 'scrape-token-0123456789';
    const { post, key, env } = await freshCaller('/v1/opportunities', {
      METRICS_NAMESPACE: namespace(),
      METRICS_SCRAPE_TOKEN: token,
    });
    await post(INTENT);
    await post(INTENT);
    const scraped = await callGateway('/metrics', { headers: { authorization: `Bearer ${token}` } }, env);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await scraped.text();
    expect(text).toContain(
      'cag_requests_total{endpoint="/v1/opportunities",status="2xx",cache="HIT",variant="-"} 1',
    );
    expect(text).toContain(
      'cag_requests_total{endpoint="/v1/opportunities",status="2xx",cache="MISS",variant="-"} 1',
    );
    expect(text).toMatch(
      /cag_upstream_calls_total\{endpoint="\/v1\/opportunities",capability="text",provider="openai",model="gpt-6-luna",outcome="ok",variant="-"\} 1/,
    );
    expect(text).toContain('# TYPE cag_budget_spent_usd gauge');
    expect(text).toContain('cag_breaker_state{name="openai:gpt-6-luna",state="closed"}');
    expect((await callGateway('/metrics', { headers: adminAuth }, env)).status).toBe(200);
    expect((await callGateway('/metrics', { headers: bearer(key) }, env)).status).toBe(403);
    expect((await callGateway('/metrics', {}, env)).status).toBe(401);
  });
});

describe('monitoring alerts', () => {
  function monitorDeps(env: Cloudflare.Env) {
    const parsed = parseEnv(env);
    const sent: Record<string, unknown>[] = [];
    const built = createDeps(parsed);
    const deps = {
      ...built,
      providers: built.providers(),
      log: createLogger({ level: 'error' }),
      fetch: async (_url: RequestInfo | URL, init?: RequestInit) => {
        sent.push(JSON.parse(String(init?.body)));
        return new Response('ok');
      },
    };
    return { parsed, deps, sent };
  }

  it('alerts a missed target once per cooldown, through the webhook', async () => {
    const { post, sim, env } = await freshCaller('/v1/opportunities', {
      METRICS_NAMESPACE: namespace(),
      MONITOR_MIN_CALLS: '2',
      OPENAI_MAX_RETRIES: '0',
      ALERT_WEBHOOK_URL: 'https://hooks.example/alerts',
      // A breaker that never opens here, so only the success rate is at fault.
      OPENAI_CIRCUIT_BREAKER_FAILURES: '1000',
    });
    await post(INTENT);
    await simConfigure(sim, { faults: [{ kind: 'status', status: 500, endpoint: '/v1/responses' }] });
    expect((await post({ intent: 'Rain jackets for cyclists' })).status).toBe(502);
    const { parsed, deps, sent } = monitorDeps(env);
    const first = await monitor(deps, parsed);
    expect(first.map((b) => b.name)).toEqual(['success_rate']);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ alert: 'monitoring', target: 'success_rate', threshold: 0.995 });
    // 4 of 5 calls: the miss's intent check, generation and answer check, then the next intent check
    // and its failed generation.
    expect(String(sent[0]?.text)).toMatch(/success rate 80\.0 %/);
    // The same breach within the cooldown is not sent again.
    expect(await monitor(deps, parsed)).toEqual([]);
    expect(sent).toHaveLength(1);
  });

  it('stays quiet below MONITOR_MIN_CALLS, and the five-minute cron runs it', async () => {
    const { post, env } = await freshCaller('/v1/opportunities', { METRICS_NAMESPACE: namespace() });
    await post(INTENT);
    const { parsed, deps, sent } = monitorDeps(env);
    expect(await monitor(deps, parsed)).toEqual([]);
    expect(sent).toEqual([]);
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ msg: 'monitoring checked', alerts: [] }),
    );
  });

  it('alerts an open breaker', async () => {
    const model = `gpt-mon-${crypto.randomUUID().slice(0, 8)}`;
    const { post, sim, env } = await freshCaller('/v1/opportunities', {
      METRICS_NAMESPACE: namespace(),
      OPENAI_TEXT_MODEL: model,
      PRICING_OVERRIDES: JSON.stringify({
        [model]: { kind: 'text', inputPerMillion: 1, outputPerMillion: 1 },
      }),
      OPENAI_MAX_RETRIES: '0',
      OPENAI_CIRCUIT_BREAKER_FAILURES: '1',
    });
    await simConfigure(sim, { faults: [{ kind: 'status', status: 500, endpoint: '/v1/responses' }] });
    expect((await post(INTENT)).status).toBe(502);
    const { parsed, deps, sent } = monitorDeps(
      envWith({ ...env, ALERT_WEBHOOK_URL: 'https://hooks.example/a' }),
    );
    const found = await monitor(deps, parsed);
    expect(found.map((b) => b.name)).toContain(`breaker_open:openai:${model}`);
    expect(sent.some((a) => a.target === `breaker_open:openai:${model}`)).toBe(true);
  });
});
