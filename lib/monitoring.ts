/**
 * The playbook's monitoring targets, checked by a cron over a rolling window of metrics: success rate,
 * average latency, cache hit rate, moderation rejection rate, each structured task's cached share of
 * input tokens (prompt caching lost: a prompt change that broke the shared prefix), and any breaker
 * that is open. Each breach is sent through the alert channel at most once per cooldown, however many
 * isolates or runs see it (a Redis SET NX decides).
 */

import { sendAlert } from './alerts';
import { createBreaker } from './breaker';
import { breakerStates } from './breaker-states';
import { CACHED_TASKS } from './cached-tasks';
import { configOf } from './config';
import type { Env } from './env';
import type { Logger } from './log';
import { readWindow } from './metrics/store';
import { type MetricsSummary, summarize } from './metrics/summary';
import { breakerNames, type ProviderTarget } from './providers/targets';
import { type Redis, redisKey } from './store';

/** A breach is re-sent at most this often while it lasts. */
export const ALERT_COOLDOWN_SECONDS = 3600;

export interface Breach {
  /** Stable name, the dedupe key: `success_rate`, `breaker_open:openai:gpt-6-luna`, … */
  name: string;
  message: string;
  value: number | string;
  threshold: number | string;
}

export interface MonitorDeps {
  redis: Pick<Redis, 'pipeline' | 'multi' | 'set' | 'evalsha' | 'eval' | 'hmget'>;
  now: () => number;
  providers: ProviderTarget[];
  log: Logger;
  fetch?: typeof fetch;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * The targets `summary` misses, given the thresholds in `env`. Rates need MONITOR_MIN_CALLS calls; a
 * task's cached share needs MONITOR_CACHED_SHARE_MIN_CALLS calls of that task.
 */
export function breaches(summary: MetricsSummary, env: Env, openBreakers: string[]): Breach[] {
  const out: Breach[] = [];
  const window = `${env.MONITOR_WINDOW_MINUTES} min`;
  const enough = summary.total_calls >= env.MONITOR_MIN_CALLS;
  if (enough && summary.success_rate !== null && summary.success_rate < env.MONITOR_SUCCESS_RATE) {
    out.push({
      name: 'success_rate',
      message: `Upstream success rate ${pct(summary.success_rate)} over the last ${window}, below ${pct(env.MONITOR_SUCCESS_RATE)}.`,
      value: summary.success_rate,
      threshold: env.MONITOR_SUCCESS_RATE,
    });
  }
  if (enough && summary.avg_latency_ms !== null && summary.avg_latency_ms > env.MONITOR_LATENCY_MS) {
    out.push({
      name: 'latency',
      message: `Average upstream latency ${summary.avg_latency_ms} ms over the last ${window}, above ${env.MONITOR_LATENCY_MS} ms.`,
      value: summary.avg_latency_ms,
      threshold: env.MONITOR_LATENCY_MS,
    });
  }
  const hitRate = summary.requests.cache_hit_rate;
  const lookups = summary.requests.cache.HIT + summary.requests.cache.MISS + summary.requests.cache.COALESCED;
  if (hitRate !== null && lookups >= env.MONITOR_MIN_CALLS && hitRate < env.MONITOR_CACHE_HIT_RATE) {
    out.push({
      name: 'cache_hit_rate',
      message: `Cache hit rate ${pct(hitRate)} over the last ${window}, below ${pct(env.MONITOR_CACHE_HIT_RATE)}.`,
      value: hitRate,
      threshold: env.MONITOR_CACHE_HIT_RATE,
    });
  }
  const { rejection_rate: rejectionRate, checked } = summary.moderation;
  if (
    rejectionRate !== null &&
    checked >= env.MONITOR_MIN_CALLS &&
    rejectionRate > env.MONITOR_REJECTION_RATE
  ) {
    out.push({
      name: 'moderation_rejection_rate',
      message: `Moderation rejected ${pct(rejectionRate)} of ${checked} checks over the last ${window}, above ${pct(env.MONITOR_REJECTION_RATE)}.`,
      value: rejectionRate,
      threshold: env.MONITOR_REJECTION_RATE,
    });
  }
  for (const task of summary.by_task) {
    if (!CACHED_TASKS.has(task.task)) continue;
    const share = task.cached_share;
    const enoughCalls = task.calls >= env.MONITOR_CACHED_SHARE_MIN_CALLS;
    if (share === null || !enoughCalls || share >= env.MONITOR_CACHED_SHARE) continue;
    out.push({
      name: `cached_share:${task.task}`,
      message: `Task ${task.task}: ${pct(share)} of its input tokens came from the prompt cache over the last ${window} (${task.calls} calls), below ${pct(env.MONITOR_CACHED_SHARE)}.`,
      value: share,
      threshold: env.MONITOR_CACHED_SHARE,
    });
  }
  for (const name of openBreakers) {
    out.push({
      name: `breaker_open:${name}`,
      message: `The circuit breaker for ${name} is open: calls go to backups or are refused.`,
      value: 'open',
      threshold: 'closed',
    });
  }
  return out;
}

/** Checks the window ending now and alerts each breach not alerted within the cooldown. Returns what was sent. */
export async function monitor(deps: MonitorDeps, env: Env): Promise<Breach[]> {
  const breaker = createBreaker({ redis: deps.redis, now: deps.now, log: deps.log }, configOf(env).breaker);
  const [window, states] = await Promise.all([
    readWindow(deps.redis, env.METRICS_NAMESPACE, deps.now(), env.MONITOR_WINDOW_MINUTES),
    breakerStates(breaker, breakerNames(deps.providers)),
  ]);
  const open = states.flatMap((s) => (s.state === 'open' ? [s.name] : []));
  const found = breaches(summarize(window), env, open);
  const sent: Breach[] = [];
  for (const breach of found) {
    const key = redisKey('monitor', env.METRICS_NAMESPACE, breach.name);
    const fresh = await deps.redis.set(key, deps.now(), { nx: true, ex: ALERT_COOLDOWN_SECONDS });
    if (fresh !== 'OK') continue;
    sent.push(breach);
    await sendAlert(
      {
        log: deps.log,
        ...(env.ALERT_WEBHOOK_URL ? { webhookUrl: env.ALERT_WEBHOOK_URL } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      },
      'monitoring',
      `commerce-ai-gateway: ${breach.message}`,
      { target: breach.name, value: breach.value, threshold: breach.threshold },
    );
  }
  return sent;
}
