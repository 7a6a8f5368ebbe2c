/**
 * The performance summary over a window of minute counters: the playbook's figures (status,
 * total_calls, success_rate, total_cost_usd, avg_latency_ms, cost_per_success) plus percentiles, cache
 * hit rate, moderation, fallbacks and repairs, per endpoint, per model, per structured task (token
 * efficiency: lib/metrics/tasks.ts, gateway-wide, the filters do not apply) and per bucket of the window
 * (a minute, or up to an hour in windows over an hour: lib/metrics/window.ts). "Calls" are
 * upstream model calls; "requests" are client requests.
 */
import { nanosToUsd } from '../pricing';
import { split } from './fields';
import { emptyHistogram, type Histogram, percentiles, quantile } from './histogram';
import type { MinuteCounters } from './store';
import { createTaskTotals } from './tasks';

export interface SummaryFilters {
  /** A route pattern such as `/v1/creatives`; applies to requests, calls and moderation. */
  endpoint?: string;
  /** Applies to upstream calls only (requests have no single model). */
  model?: string;
}

/** Below this success rate the gateway reports itself degraded (the playbook's 95 %). */
export const HEALTHY_SUCCESS_RATE = 0.95;

interface CallTotals {
  calls: number;
  ok: number;
  ms: number;
  costNanos: number;
}
const emptyCalls = (): CallTotals => ({ calls: 0, ok: 0, ms: 0, costNanos: 0 });
const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export function summarize(minutes: MinuteCounters[], filters: SummaryFilters = {}) {
  const calls = emptyCalls();
  const tokens = { input: 0, cached: 0, output: 0 };
  let [retries, fallbacks, repairs] = [0, 0, 0];
  const errors: Record<string, number> = {};
  const callLatency = emptyHistogram();
  const requests = { total: 0, ms: 0, byStatus: { '2xx': 0, '4xx': 0, '5xx': 0 } as Record<string, number> };
  const requestErrors: Record<string, number> = {};
  const requestLatency = emptyHistogram();
  const cache = { HIT: 0, MISS: 0, BYPASS: 0, COALESCED: 0 };
  const moderation = {
    checked: 0,
    rejected: 0,
    byLayer: { openai: 0, business_rules: 0, brand_safety: 0 } as Record<string, number>,
  };
  const byEndpoint = new Map<string, CallTotals & { requests: number; latency: Histogram }>();
  const byModel = new Map<string, CallTotals & { provider: string; model: string }>();
  const byTask = createTaskTotals();
  const series = [];

  const endpointRow = (endpoint: string) => {
    let row = byEndpoint.get(endpoint);
    if (!row) {
      row = { ...emptyCalls(), requests: 0, latency: emptyHistogram() };
      byEndpoint.set(endpoint, row);
    }
    return row;
  };
  const wanted = (endpoint: string | undefined, model?: string) =>
    (!filters.endpoint || endpoint === filters.endpoint) &&
    (!filters.model || model === undefined || model === filters.model);

  for (const { minute, minutes: width = 1, fields } of minutes) {
    const m = { requests: 0, calls: 0, successes: 0, costNanos: 0, cacheHits: 0, latency: emptyHistogram() };
    for (const [name, value] of Object.entries(fields)) {
      const [kind, endpoint, ...rest] = split(name);
      if (kind === 'q' && wanted(endpoint)) {
        const [statusClass = '', cacheStatus = '-', , measure] = rest;
        if (measure === 'n') {
          requests.total += value;
          m.requests += value;
          requests.byStatus[statusClass] = (requests.byStatus[statusClass] ?? 0) + value;
          if (cacheStatus in cache) cache[cacheStatus as keyof typeof cache] += value;
          if (cacheStatus === 'HIT' || cacheStatus === 'COALESCED') m.cacheHits += value;
          endpointRow(endpoint as string).requests += value;
        } else if (measure === 'ms') requests.ms += value;
      } else if (kind === 'qh' && wanted(endpoint)) {
        requestLatency[Number(rest[0])] = (requestLatency[Number(rest[0])] ?? 0) + value;
      } else if (kind === 'qe' && wanted(endpoint)) {
        requestErrors[rest[0] as string] = (requestErrors[rest[0] as string] ?? 0) + value;
      } else if (kind === 'u') {
        const [, provider = '', model = '', outcome = '', , measure] = rest;
        if (!wanted(endpoint, model)) continue;
        const row = endpointRow(endpoint as string);
        const key = `${provider}|${model}`;
        const modelRow = byModel.get(key) ?? { ...emptyCalls(), provider, model };
        byModel.set(key, modelRow);
        const ok = outcome === 'ok';
        for (const totals of [calls, row, modelRow]) {
          if (measure === 'n') {
            totals.calls += value;
            if (ok) totals.ok += value;
          } else if (measure === 'ms') totals.ms += value;
          else if (measure === 'cost') totals.costNanos += value;
        }
        if (measure === 'n') {
          m.calls += value;
          if (ok) m.successes += value;
          else errors[outcome] = (errors[outcome] ?? 0) + value;
        } else if (measure === 'cost') m.costNanos += value;
        else if (measure === 'in') tokens.input += value;
        else if (measure === 'cached') tokens.cached += value;
        else if (measure === 'out') tokens.output += value;
        else if (measure === 'retries') retries += value;
        else if (measure === 'fallback') fallbacks += value;
        else if (measure === 'repair') repairs += value;
      } else if (kind === 'uh') {
        const [model, bucket] = rest;
        if (!wanted(endpoint, model)) continue;
        const b = Number(bucket);
        callLatency[b] = (callLatency[b] ?? 0) + value;
        m.latency[b] = (m.latency[b] ?? 0) + value;
        const row = endpointRow(endpoint as string);
        row.latency[b] = (row.latency[b] ?? 0) + value;
      } else if (kind === 't') {
        byTask.add(endpoint as string, rest[0] as string, value); // `t|task|measure`
      } else if (kind === 'mod' && wanted(endpoint)) {
        const outcome = rest[0] as string;
        moderation.checked += value;
        if (outcome in moderation.byLayer) {
          moderation.rejected += value;
          moderation.byLayer[outcome] = (moderation.byLayer[outcome] ?? 0) + value;
        }
      }
    }
    series.push({
      minute: new Date(minute * 60_000).toISOString(),
      minutes: width,
      requests: m.requests,
      calls: m.calls,
      successes: m.successes,
      cost_usd: nanosToUsd(m.costNanos),
      cache_hits: m.cacheHits,
      p95_ms: quantile(m.latency, 0.95),
    });
  }

  const successRate = rate(calls.ok, calls.calls);
  const lookups = cache.HIT + cache.MISS + cache.COALESCED;
  return {
    status: successRate === null ? 'idle' : successRate > HEALTHY_SUCCESS_RATE ? 'healthy' : 'degraded',
    total_calls: calls.calls,
    successful_calls: calls.ok,
    success_rate: successRate,
    total_cost_usd: nanosToUsd(calls.costNanos),
    avg_latency_ms: calls.calls ? Math.round(calls.ms / calls.calls) : null,
    cost_per_success: calls.ok ? nanosToUsd(calls.costNanos) / calls.ok : null,
    latency_ms: percentiles(callLatency),
    tokens,
    retries,
    fallbacks,
    repairs,
    errors,
    requests: {
      total: requests.total,
      by_status: requests.byStatus,
      errors: requestErrors,
      latency_ms: {
        avg: requests.total ? Math.round(requests.ms / requests.total) : null,
        ...percentiles(requestLatency),
      },
      cache,
      cache_hit_rate: rate(cache.HIT + cache.COALESCED, lookups),
    },
    moderation: {
      checked: moderation.checked,
      rejected: moderation.rejected,
      rejection_rate: rate(moderation.rejected, moderation.checked),
      rejected_by_layer: moderation.byLayer,
    },
    by_endpoint: [...byEndpoint.entries()].map(([endpoint, row]) => ({
      endpoint,
      requests: row.requests,
      calls: row.calls,
      success_rate: rate(row.ok, row.calls),
      cost_usd: nanosToUsd(row.costNanos),
      p95_ms: quantile(row.latency, 0.95),
    })),
    by_model: [...byModel.values()].map((row) => ({
      provider: row.provider,
      model: row.model,
      calls: row.calls,
      success_rate: rate(row.ok, row.calls),
      cost_usd: nanosToUsd(row.costNanos),
      avg_latency_ms: row.calls ? Math.round(row.ms / row.calls) : null,
    })),
    by_task: byTask.rows(),
    series,
  };
}

export type MetricsSummary = ReturnType<typeof summarize>;
