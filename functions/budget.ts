import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import type { ScopeState } from '../lib/budget';
import { listKeys } from '../lib/key-admin';
import { keyBudgetUsd } from '../lib/key-policy';
import { nanosToUsd, usdToNanos } from '../lib/pricing';
import { servicesOf } from '../lib/request-services';

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
 * `GET /v1/budget`: with a client key, that key's own day (its limit, spend, reservations, calls) and
 * history, nothing about the gateway or other keys; with the admin key, the gateway's figures, its
 * alerts, every key's figures and the gateway's history.
 */
export const budget = new Hono<AppEnv>().get('/v1/budget', async (c) => {
  const env = c.get('env');
  const principal = c.get('principal');
  const ledger = servicesOf(c).budget();
  const noStore = { 'cache-control': 'no-store' };
  if (principal.kind === 'key') {
    const scope = keyScope(principal.id);
    const [today, history] = await Promise.all([ledger.read([scope]), ledger.history(30)]);
    const own = figures(today.scopes[0], principal.dailyBudgetUsd);
    return c.json(
      {
        day: today.day,
        timezone: env.BUDGET_TIMEZONE,
        scope: 'key' as const,
        ...own,
        resets_at: today.resetsAt,
        key: { id: principal.id, name: principal.name, ...own },
        history: history.map((d) => {
          const mine = d.keys[principal.id];
          return { day: d.day, spent_usd: nanosToUsd(mine?.spentNanos ?? 0), calls: mine?.calls ?? 0 };
        }),
      },
      200,
      noStore,
    );
  }
  const keys = await listKeys(c.get('deps').redis);
  const scopes = ['global', ...keys.map((k) => keyScope(k.id))];
  const [today, history] = await Promise.all([ledger.read(scopes), ledger.history(30)]);
  const byScope = new Map(today.scopes.map((s) => [s.scope, s]));
  const global = byScope.get('global');
  return c.json(
    {
      day: today.day,
      timezone: env.BUDGET_TIMEZONE,
      scope: 'gateway' as const,
      ...figures(global, env.OPENAI_DAILY_BUDGET_USD),
      alert_threshold_usd: env.OPENAI_ALERT_THRESHOLD_USD,
      alerts_sent: (global?.alertsSent ?? []).map((t) => ({
        level: t >= usdToNanos(env.OPENAI_DAILY_BUDGET_USD) ? 'limit' : 'threshold',
        threshold_usd: nanosToUsd(t),
      })),
      resets_at: today.resetsAt,
      key: null,
      keys: keys.map((k) => ({
        id: k.id,
        name: k.name,
        revoked: k.revoked_at !== null,
        ...figures(byScope.get(keyScope(k.id)), keyBudgetUsd(k, env)),
      })),
      history: history.map((d) => ({ day: d.day, spent_usd: nanosToUsd(d.spentNanos), calls: d.calls })),
    },
    200,
    noStore,
  );
});

const keyScope = (id: string) => `key:${id}`;
