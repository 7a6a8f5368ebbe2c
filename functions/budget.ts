import { Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import type { ScopeState } from '../lib/budget';
import { listKeys } from '../lib/keys';
import { nanosToUsd, usdToNanos } from '../lib/pricing';
import { budgetFor } from '../lib/request-context';

/** One scope's figures in dollars; `limit_usd` null means no limit of its own. */
function figures(state: ScopeState | undefined, limitUsd: number | null) {
  const spent = state?.spentNanos ?? 0;
  const reserved = state?.reservedNanos ?? 0;
  return {
    limit_usd: limitUsd,
    spent_usd: nanosToUsd(spent),
    reserved_usd: nanosToUsd(reserved),
    remaining_usd:
      limitUsd === null ? null : nanosToUsd(Math.max(0, usdToNanos(limitUsd) - spent - reserved)),
    calls: state?.calls ?? 0,
  };
}

/**
 * `GET /v1/budget`: today's gateway budget, the caller's key, the archived history; the admin key
 * also sees every key's figures.
 */
export const budget = new Hono<AppEnv>().get('/v1/budget', async (c) => {
  const env = c.get('env');
  const principal = c.get('principal');
  const ledger = budgetFor(c);
  const keys = principal.kind === 'admin' ? await listKeys(c.get('deps').redis) : [];
  const keyScope = (id: string) => `key:${id}`;
  const scopes = [
    'global',
    ...(principal.kind === 'key' ? [keyScope(principal.id)] : keys.map((k) => keyScope(k.id))),
  ];
  const [today, history] = await Promise.all([ledger.read(scopes), ledger.history(30)]);
  const byScope = new Map(today.scopes.map((s) => [s.scope, s]));
  const global = byScope.get('global');
  return c.json(
    {
      day: today.day,
      timezone: env.BUDGET_TIMEZONE,
      ...figures(global, env.OPENAI_DAILY_BUDGET_USD),
      alert_threshold_usd: env.OPENAI_ALERT_THRESHOLD_USD,
      alerts_sent: (global?.alertsSent ?? []).map((t) => ({
        level: t >= usdToNanos(env.OPENAI_DAILY_BUDGET_USD) ? 'limit' : 'threshold',
        threshold_usd: nanosToUsd(t),
      })),
      resets_at: today.resetsAt,
      key:
        principal.kind === 'key'
          ? {
              id: principal.id,
              name: principal.name,
              ...figures(byScope.get(keyScope(principal.id)), principal.dailyBudgetUsd),
            }
          : null,
      ...(principal.kind === 'admin'
        ? {
            keys: keys.map((k) => ({
              id: k.id,
              name: k.name,
              revoked: k.revoked_at !== null,
              ...figures(byScope.get(keyScope(k.id)), k.daily_budget_usd),
            })),
          }
        : {}),
      history: history.map((d) => ({ day: d.day, spent_usd: nanosToUsd(d.spentNanos), calls: d.calls })),
    },
    200,
    { 'cache-control': 'no-store' },
  );
});
