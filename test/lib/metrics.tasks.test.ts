import { describe, expect, it } from 'vitest';
import { createMetricsCollector } from '../../lib/metrics/collector';
import { toPrometheus } from '../../lib/metrics/prometheus';
import { summarize } from '../../lib/metrics/summary';
import { cachedShare, costPerApproved, TASK_MEASURES } from '../../lib/metrics/tasks';
import { costOf, createPriceTable, type ModelPrice, nanosToUsd } from '../../lib/pricing';
import type { Usage } from '../../lib/providers/usage';

const prices = createPriceTable();
const USAGE: Usage = {
  inputTokens: 2000,
  cachedTokens: 1536,
  cacheWriteTokens: 0,
  outputTokens: 700,
  reasoningTokens: 256,
};

/** One request's counters: `calls` upstream calls (a task's, or a moderation call), `approved` results. */
function requestCounters(
  calls: { task?: string; usage?: Usage; capability?: 'text' | 'moderation' }[],
  approved: [string, number][] = [],
) {
  const collector = createMetricsCollector(prices);
  for (const call of calls) {
    collector.upstream({
      capability: call.capability ?? 'text',
      provider: 'openai',
      model: 'gpt-6-luna',
      durationMs: 100,
      retries: 0,
      fallback: false,
      repair: false,
      ...(call.usage ? { usage: call.usage } : {}),
      ...(call.task ? { task: call.task } : {}),
    });
  }
  for (const [task, n] of approved) collector.approved(task, n);
  return collector.increments({ endpoint: '/v1/creatives', status: 200, durationMs: 300 });
}

const fieldsOf = (...maps: Map<string, number>[]) => {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of m) out[k] = (out[k] ?? 0) + v;
  return out;
};

describe('token efficiency arithmetic', () => {
  it('cached share is cached over input tokens, null without input', () => {
    expect(cachedShare(1536, 2000)).toBe(0.768);
    expect(cachedShare(0, 2000)).toBe(0);
    expect(cachedShare(0, 0)).toBeNull();
  });

  it('cost per approved result is the task cost in USD over its approved results, null without one', () => {
    expect(costPerApproved(3_000_000, 3)).toBeCloseTo(0.001, 12);
    expect(costPerApproved(3_000_000, 0)).toBeNull();
  });
});

describe('per-task counters', () => {
  it('adds one `t|task|measure` field per non-zero measure, and nothing for calls without a task', () => {
    const fields = requestCounters(
      [
        { task: 'creative', usage: USAGE },
        { capability: 'moderation', usage: USAGE },
      ],
      [['creative', 1]],
    );
    const task = [...fields].filter(([name]) => name.startsWith('t|'));
    expect(Object.fromEntries(task)).toEqual({
      't|creative|n': 1,
      't|creative|in': 2000,
      't|creative|cached': 1536,
      't|creative|out': 700,
      't|creative|reason': 256,
      't|creative|cost': costOf(prices.price('gpt-6-luna') as ModelPrice, USAGE),
      't|creative|ok': 1,
    });
    // Bounded: at most one field per measure per task, whatever the endpoint, model or variant.
    expect(task.length).toBeLessThanOrEqual(TASK_MEASURES.length);
  });

  it('counts a call that failed (no usage) as a call of its task, with no tokens', () => {
    const fields = requestCounters([{ task: 'opportunities' }]);
    expect(fields.get('t|opportunities|n')).toBe(1);
    expect(fields.has('t|opportunities|in')).toBe(false);
  });

  it('summarises each task: tokens, cached share, cost and cost per approved result', () => {
    const creative = requestCounters([{ task: 'creative', usage: USAGE }], [['creative', 1]]);
    const rejected = requestCounters([{ task: 'creative', usage: { ...USAGE, cachedTokens: 0 } }]);
    const batch = requestCounters([{ task: 'creatives', usage: USAGE }], [['creatives', 3]]);
    const s = summarize([{ minute: 1, fields: fieldsOf(creative, rejected, batch) }]);
    const callUsd = nanosToUsd(costOf(prices.price('gpt-6-luna') as ModelPrice, USAGE));
    const noCacheUsd = nanosToUsd(
      costOf(prices.price('gpt-6-luna') as ModelPrice, { ...USAGE, cachedTokens: 0 }),
    );
    expect(s.by_task).toEqual([
      {
        task: 'creative',
        calls: 2,
        input_tokens: 4000,
        cached_tokens: 1536,
        cache_write_tokens: 0,
        output_tokens: 1400,
        reasoning_tokens: 512,
        cost_usd: expect.closeTo(callUsd + noCacheUsd, 12),
        approved_results: 1,
        cached_share: 1536 / 4000,
        // The rejected creative's call is paid by the approved one.
        cost_per_approved_result: expect.closeTo(callUsd + noCacheUsd, 12),
      },
      expect.objectContaining({
        task: 'creatives',
        calls: 1,
        approved_results: 3,
        cached_share: 0.768,
        cost_per_approved_result: expect.closeTo(callUsd / 3, 12),
      }),
    ]);
  });

  it('exposes per-task counters to Prometheus with a `task` label', () => {
    const counters = requestCounters([{ task: 'creative', usage: USAGE }], [['creative', 2]]);
    const text = toPrometheus(Object.fromEntries(counters));
    expect(text).toContain('# TYPE cag_task_tokens_total counter');
    expect(text).toContain('cag_task_tokens_total{task="creative",type="input"} 2000');
    expect(text).toContain('cag_task_tokens_total{task="creative",type="cached"} 1536');
    expect(text).toContain('cag_task_tokens_total{task="creative",type="output"} 700');
    expect(text).toContain('cag_task_tokens_total{task="creative",type="reasoning"} 256');
    expect(text).toContain('cag_task_calls_total{task="creative"} 1');
    expect(text).toContain('cag_task_approved_results_total{task="creative"} 2');
    const cost = nanosToUsd(costOf(prices.price('gpt-6-luna') as ModelPrice, USAGE));
    expect(text).toContain(`cag_task_cost_usd_total{task="creative"} ${cost}`);
  });
});
