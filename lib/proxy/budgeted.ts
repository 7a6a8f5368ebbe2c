/**
 * What every proxied call runs under: the router for its plan (every provider offering the capability,
 * or the primary alone) and the budget around it (the worst case reserved, what the answer's usage
 * says settled), over the request's services.
 */
import { priceOf } from '../domain/cost';
import { billingFor } from '../generation';
import { allowsModel } from '../key-policy';
import { costOf } from '../pricing';
import type { Usage } from '../providers';
import type { AttemptBilling, RouterDeps } from '../providers/router-deps';
import type { Services } from '../services';
import type { Held } from '../spend';
import type { ProxyPlan } from './plan';

/**
 * The router for `plan`: every provider offering its capability, or the primary alone. A backup serves
 * only with a model the key's allow-list names (the primary's, the one asked for, was checked at
 * admission): a key held to a cheap model is never answered by a dearer one in an outage.
 */
export function routerOf(s: Services, plan: ProxyPlan): ReturnType<Services['router']> {
  const { deps, policy } = s.router();
  const candidates = plan.backups ? deps.providers : deps.providers.slice(0, 1);
  const allowed = allowedBackup(s);
  const providers: RouterDeps['providers'] = candidates.filter(
    (p, i) => i === 0 || allowed(p.models[plan.capability]),
  );
  return { deps: { ...deps, providers }, policy };
}

/** Whether a backup's model is one the caller's key may use. */
export function allowedBackup(s: Services): (model: string | undefined) => boolean {
  const { prices } = s;
  const principal = s.principal();
  return (model) => model !== undefined && allowsModel(principal, model, prices.entryOf(model));
}

/**
 * Reserves the worst case, runs `work`, settles what it cost: from the usage `usageOf` finds, priced
 * with the model that served; without usage, the whole reservation (a stream cut short reports none).
 * A free API (estimate 0) skips the budget.
 */
export async function budgeted<T>(
  s: Services,
  plan: ProxyPlan,
  work: (held: Pick<Held, 'keepAlive'>, billing?: AttemptBilling) => Promise<T>,
  usageOf: (value: T) => { model: string; usage: Usage | undefined },
): Promise<T> {
  const { nanos: estimate, units } = await plan.estimate();
  if (estimate === 0) return work({ keepAlive: () => () => undefined });
  const { prices } = s;
  // One proxied call is the whole estimate: another attempt after a billed one needs as much again.
  const run = (held: Held) =>
    work(
      held,
      billingFor(held, () => estimate),
    );
  return s.spend({ uses: [plan.capability], units }).run(estimate, run, {
    value: (value) => {
      const { model, usage } = usageOf(value);
      return usage ? costOf(priceOf(prices, model), usage) : estimate;
    },
  });
}
