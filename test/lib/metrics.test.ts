import { describe, expect, it } from 'vitest';
import { createMetricsCollector, OTHER_MODEL } from '../../lib/metrics/collector';
import { bucketOf, field, LATENCY_BOUNDS_MS, measureOf, split } from '../../lib/metrics/fields';
import { quantile } from '../../lib/metrics/histogram';
import { toPrometheus } from '../../lib/metrics/prometheus';
import type { MinuteCounters } from '../../lib/metrics/store';
import { summarize } from '../../lib/metrics/summary';
import type { Verdict } from '../../lib/moderation';
import { createPriceTable } from '../../lib/pricing';

/** The built-in prices and a backup's model, priced as an operator would (the gateway calls only priced models). */
const prices = createPriceTable({
  'gemini-x': { kind: 'text', inputPerMillion: 0.1, outputPerMillion: 0.4 },
});
const usage = { inputTokens: 1000, cachedTokens: 200, outputTokens: 500 };

/** The counters one request with the given calls and verdicts adds. */
function requestCounters(
  calls: { model?: string; ms: number; errorCode?: string; fallback?: boolean; repair?: boolean }[],
  request: { endpoint?: string; status?: number; ms?: number; cache?: string },
  verdicts: Verdict[] = [],
) {
  const collector = createMetricsCollector(prices);
  for (const call of calls) {
    collector.upstream({
      capability: 'text',
      provider: call.fallback ? 'gemini' : 'openai',
      model: call.model ?? 'gpt-6-luna',
      durationMs: call.ms,
      retries: call.errorCode ? 3 : 0,
      fallback: call.fallback ?? false,
      repair: call.repair ?? false,
      ...(call.errorCode ? { errorCode: call.errorCode } : { usage }),
    });
  }
  for (const verdict of verdicts) collector.moderation(verdict);
  return collector.increments({
    endpoint: request.endpoint ?? '/v1/opportunities',
    status: request.status ?? 200,
    durationMs: request.ms ?? 300,
    ...(request.cache ? { cache: request.cache } : {}),
  });
}

function minute(minuteIndex: number, ...requests: Map<string, number>[]): MinuteCounters {
  const fields: Record<string, number> = {};
  for (const r of requests) for (const [k, v] of r) fields[k] = (fields[k] ?? 0) + v;
  return { minute: minuteIndex, fields };
}

const approved: Verdict = {
  approved: true,
  layer: null,
  reason: null,
  categories: [],
  checked: { openai: 'passed', business_rules: 'passed', brand_safety: 'passed' },
} as unknown as Verdict;
const rejectedBy = (layer: string): Verdict =>
  ({ ...approved, approved: false, layer }) as unknown as Verdict;

describe('metric labels', () => {
  it('counts every dated snapshot under its base model and any unpriced name as other, so nobody can mint labels', () => {
    const fields = [
      ...requestCounters([{ model: 'gpt-4.1-mini-2025-04-14', ms: 10 }], {}).keys(),
      ...requestCounters([{ model: 'gpt-4.1-mini-2031-12-31', ms: 10 }], {}).keys(),
      ...requestCounters([{ model: 'backup-model-2030-01-01', ms: 10 }], {}).keys(),
      ...requestCounters([{ model: `made-up-${crypto.randomUUID()}`, ms: 10 }], {}).keys(),
    ].join('\n');
    expect(fields).not.toMatch(/\d{4}-\d{2}-\d{2}|made-up|backup-model/);
    expect(fields).toContain('gpt-4.1-mini');
    expect(fields).toContain(OTHER_MODEL);
  });
});

describe('field names', () => {
  it('names a measure of a built series exactly as the whole field, separators in values replaced once', () => {
    const parts = ['u', '/openai/v1/chat/completions', 'text', 'back|up', 'gpt-4.1', 'ok', ''] as const;
    for (const measure of ['n', 'ms', 'cost'])
      expect(measureOf(field(...parts), measure)).toBe(field(...parts, measure));
    expect(split(measureOf(field(...parts), 'n'))).toEqual([
      'u',
      '/openai/v1/chat/completions',
      'text',
      'back/up',
      'gpt-4.1',
      'ok',
      '-',
      'n',
    ]);
  });
});

describe('latency histogram', () => {
  it('puts a duration in the first bucket whose bound it does not exceed', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(10)).toBe(0);
    expect(bucketOf(11)).toBe(1);
    expect(bucketOf(60_001)).toBe(LATENCY_BOUNDS_MS.length);
  });

  it('interpolates quantiles within a bucket and reports the open bucket by its lower bound', () => {
    const h = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    expect(quantile(h, 0.5)).toBeNull();
    h[bucketOf(400)] = 100; // all in (250, 500]
    expect(quantile(h, 0.5)).toBe(375);
    expect(quantile(h, 1)).toBe(500);
    h[LATENCY_BOUNDS_MS.length] = 100;
    expect(quantile(h, 0.99)).toBe(60_000);
  });
});

describe('summarize', () => {
  it("computes the playbook's summary: calls, success rate, cost, latency, cost per success", () => {
    const ok = requestCounters([{ ms: 400 }], { cache: 'MISS' });
    const failed = requestCounters([{ ms: 3000, errorCode: 'provider_unavailable' }], {
      status: 503,
      cache: 'MISS',
    });
    const s = summarize([minute(1, ok, ok, ok), minute(2, failed)]);
    expect(s.total_calls).toBe(4);
    expect(s.successful_calls).toBe(3);
    expect(s.success_rate).toBe(0.75);
    expect(s.status).toBe('degraded');
    expect(s.avg_latency_ms).toBe(Math.round((3 * 400 + 3000) / 4));
    const oneCall = prices.price('gpt-6-luna');
    expect(oneCall).toBeDefined();
    expect(s.total_cost_usd).toBeGreaterThan(0);
    expect(s.cost_per_success).toBeCloseTo(s.total_cost_usd / 3, 12);
    expect(s.tokens).toEqual({ input: 3000, cached: 600, output: 1500 });
    expect(s.retries).toBe(3);
    expect(s.errors).toEqual({ provider_unavailable: 1 });
    expect(s.requests.by_status).toMatchObject({ '2xx': 3, '5xx': 1 });
    expect(s.series.map((m) => m.calls)).toEqual([3, 1]);
    expect(s.series[0]?.minute).toBe(new Date(60_000).toISOString());
  });

  it('is healthy above 95 % and idle without calls', () => {
    const ok = requestCounters([{ ms: 100 }], {});
    expect(summarize([minute(1, ...Array(20).fill(ok))]).status).toBe('healthy');
    expect(summarize([minute(1)]).status).toBe('idle');
  });

  it('counts cache hits (HIT and COALESCED over lookups; BYPASS excluded) and moderation by layer', () => {
    const hit = requestCounters([], { cache: 'HIT' });
    const coalesced = requestCounters([], { cache: 'COALESCED' });
    const miss = requestCounters([{ ms: 200 }], { cache: 'MISS' }, [approved, approved]);
    const bypass = requestCounters([{ ms: 200 }], { cache: 'BYPASS' }, [rejectedBy('business_rules')]);
    const s = summarize([minute(1, hit, hit, coalesced, miss, bypass)]);
    expect(s.requests.cache).toEqual({ HIT: 2, MISS: 1, BYPASS: 1, COALESCED: 1 });
    expect(s.requests.cache_hit_rate).toBe(3 / 4);
    expect(s.moderation).toEqual({
      checked: 3,
      rejected: 1,
      rejection_rate: 1 / 3,
      rejected_by_layer: { openai: 0, business_rules: 1, brand_safety: 0 },
    });
  });

  it('filters by endpoint (everything) and by model (upstream calls), and counts fallbacks and repairs', () => {
    const a = requestCounters(
      [
        { ms: 100, model: 'gpt-6-luna' },
        { ms: 100, model: 'gpt-6-luna', repair: true },
      ],
      {
        endpoint: '/v1/opportunities',
      },
    );
    const b = requestCounters([{ ms: 100, model: 'gemini-x', fallback: true }], {
      endpoint: '/v1/creatives',
    });
    const all = summarize([minute(1, a, b)]);
    expect(all.total_calls).toBe(3);
    expect(all.fallbacks).toBe(1);
    expect(all.repairs).toBe(1);
    expect(all.by_model.map((m) => [m.provider, m.model, m.calls])).toEqual([
      ['openai', 'gpt-6-luna', 2],
      ['gemini', 'gemini-x', 1],
    ]);
    const creatives = summarize([minute(1, a, b)], { endpoint: '/v1/creatives' });
    expect(creatives.total_calls).toBe(1);
    expect(creatives.requests.total).toBe(1);
    const luna = summarize([minute(1, a, b)], { model: 'gpt-6-luna' });
    expect(luna.total_calls).toBe(2);
    expect(luna.requests.total).toBe(2);
  });
});

describe('toPrometheus', () => {
  it('renders counters, cumulative histograms and gauges in the text format', () => {
    const counters = Object.fromEntries(requestCounters([{ ms: 400 }], { cache: 'HIT', ms: 30 }));
    const text = toPrometheus(counters, [
      { name: 'cag_budget_spent_usd', help: 'Spent today.', samples: [{ labels: {}, value: 1.5 }] },
    ]);
    expect(text).toContain('# TYPE cag_requests_total counter');
    expect(text).toContain(
      'cag_requests_total{endpoint="/v1/opportunities",status="2xx",cache="HIT",variant="-"} 1',
    );
    expect(text).toContain('# TYPE cag_upstream_call_duration_seconds histogram');
    expect(text).toContain(
      'cag_upstream_call_duration_seconds_bucket{endpoint="/v1/opportunities",model="gpt-6-luna",le="0.25"} 0',
    );
    expect(text).toContain(
      'cag_upstream_call_duration_seconds_bucket{endpoint="/v1/opportunities",model="gpt-6-luna",le="0.5"} 1',
    );
    expect(text).toContain(
      'cag_upstream_call_duration_seconds_bucket{endpoint="/v1/opportunities",model="gpt-6-luna",le="+Inf"} 1',
    );
    expect(text).toContain(
      'cag_upstream_call_duration_seconds_sum{endpoint="/v1/opportunities",model="gpt-6-luna"} 0.4',
    );
    expect(text).toContain(
      'cag_upstream_tokens_total{endpoint="/v1/opportunities",capability="text",provider="openai",model="gpt-6-luna",outcome="ok",variant="-",type="input"} 1000',
    );
    expect(text).toContain('cag_budget_spent_usd 1.5');
    expect(text.endsWith('\n')).toBe(true);
    // Every sample line is `name{labels} number`.
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{.*\})? -?[0-9.e+-]+$/);
    }
  });
});
