import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app-env';
import { breakerStates } from '../lib/breaker-states';
import { PermissionDeniedError } from '../lib/errors';
import { requireAdmin } from '../lib/guards';
import { type Gauge, toPrometheus } from '../lib/metrics/prometheus';
import { readTotals, readWindow } from '../lib/metrics/store';
import { summarize } from '../lib/metrics/summary';
import { nanosToUsd } from '../lib/pricing';
import { breakerNames } from '../lib/providers/targets';
import { servicesOf } from '../lib/request-services';
import { valid } from '../lib/validate';

export const MetricsQuery = z.object({
  /** The window: the last N minutes, the current one included. */
  minutes: z.coerce.number().int().min(1).max(1440).default(60),
  /** A route pattern such as `/v1/creatives`. */
  endpoint: z.string().min(1).max(100).optional(),
  /** An upstream model id; filters upstream calls. */
  model: z.string().min(1).max(100).optional(),
});

function breakersOf(c: Context<AppEnv>) {
  return breakerStates(servicesOf(c).breaker, breakerNames(c.get('deps').providers()));
}

async function todaysBudget(c: Context<AppEnv>) {
  const env = c.get('env');
  const today = await servicesOf(c).budget().read(['global']);
  const global = today.scopes[0];
  return {
    day: today.day,
    limit_usd: env.OPENAI_DAILY_BUDGET_USD,
    spent_usd: nanosToUsd(global?.spentNanos ?? 0),
    reserved_usd: nanosToUsd(global?.reservedNanos ?? 0),
    alert_threshold_usd: env.OPENAI_ALERT_THRESHOLD_USD,
    resets_at: today.resetsAt,
  };
}

/**
 * `GET /v1/metrics` (admin): the performance summary over the last `minutes`, filterable by endpoint
 * and model, with breaker states and today's budget. The window, the breakers and the budget are read
 * concurrently (a few pipelined requests in one round trip's time).
 *
 * `GET /metrics` (admin key or METRICS_SCRAPE_TOKEN): running totals in the Prometheus text format.
 */
export const metrics = new Hono<AppEnv>()
  .get('/v1/metrics', valid('query', MetricsQuery), async (c) => {
    if (c.get('principal').kind !== 'admin') {
      throw new PermissionDeniedError({ message: 'Metrics cover every key; they need the admin key.' });
    }
    const { minutes, endpoint, model } = c.req.valid('query');
    const { redis, now } = c.get('deps');
    const at = now();
    const [window, breakers, budget] = await Promise.all([
      readWindow(redis, c.get('env').METRICS_NAMESPACE, at, minutes),
      breakersOf(c),
      todaysBudget(c),
    ]);
    const filters = { ...(endpoint ? { endpoint } : {}), ...(model ? { model } : {}) };
    return c.json({
      window: {
        minutes,
        from: new Date((Math.floor(at / 60_000) - minutes + 1) * 60_000).toISOString(),
        to: new Date(at).toISOString(),
      },
      filters: { endpoint: endpoint ?? null, model: model ?? null },
      ...summarize(window, filters),
      breakers,
      budget,
    });
  })
  .get('/metrics', requireAdmin({ alsoAccept: (env) => env.METRICS_SCRAPE_TOKEN }), async (c) => {
    const [totals, breakers, budget] = await Promise.all([
      readTotals(c.get('deps').redis, c.get('env').METRICS_NAMESPACE),
      breakersOf(c),
      todaysBudget(c),
    ]);
    const gauges: Gauge[] = [
      {
        name: 'cag_budget_limit_usd',
        help: "Today's budget.",
        samples: [{ labels: {}, value: budget.limit_usd }],
      },
      {
        name: 'cag_budget_spent_usd',
        help: 'Spent today.',
        samples: [{ labels: {}, value: budget.spent_usd }],
      },
      {
        name: 'cag_budget_reserved_usd',
        help: 'Held by calls in flight.',
        samples: [{ labels: {}, value: budget.reserved_usd }],
      },
      {
        name: 'cag_breaker_state',
        help: 'Circuit breaker state (1 for the current state).',
        samples: breakers.flatMap((b) =>
          (['closed', 'open', 'half_open'] as const).map((state) => ({
            labels: { name: b.name, state },
            value: b.state === state ? 1 : 0,
          })),
        ),
      },
    ];
    return c.body(toPrometheus(totals, gauges), 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    });
  });
