/**
 * What every proxied call runs under: the router for its plan (every provider offering the capability,
 * or the primary alone) and the budget around it (the worst case reserved, what the answer's usage
 * says settled), over the request's services.
 */

import type { Held } from '../budget/held';
import { priceOf } from '../domain/cost';
import { billingFor } from '../generation';
import { allowsModel } from '../key-policy';
import type { Nanos } from '../pricing';
import { costOf } from '../pricing';
import type { Usage } from '../providers';
import type { AttemptBilling, EarlyPermit, RouterDeps } from '../providers/router-deps';
import type { Services } from '../services';
import type { Started } from '../spend';
import { loadTokenCounter, type TokenCounter } from '../tokens';
import type { ProxyPlan } from './plan';

/**
 * The router for `plan`: every provider offering its capability, or the primary alone. A backup serves
 * only with a model the key's allow-list names (the primary's, the one asked for, was checked at
 * admission): a key held to a cheap model is never answered by a dearer one in an outage.
 */
export function routerOf(s: Services, plan: ProxyPlan, early?: EarlyPermit): ReturnType<Services['router']> {
  const { deps, policy } = s.router(undefined, early);
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
 * A proxied call's reservation and first permit, asked for together (one Redis round trip, admission's
 * when lib/proxy/admission.ts can): the estimate computed, the worst case reserved with its units, the
 * first attempt's breaker permit and upstream guard asked for. A free API (estimate 0) reserves nothing.
 */
export interface ProxyStart {
  estimate: Nanos;
  started: Started | undefined;
  early: EarlyPermit;
  /** Undoes a start that will not run (admission refused the request after all). */
  cancel(): void;
}

export function startProxy(s: Services, plan: ProxyPlan, counter: TokenCounter): ProxyStart {
  const { nanos: estimate, units } = plan.estimate(counter);
  const early = s.early(plan.capability, plan.model);
  const started = estimate === 0 ? undefined : s.spend({ uses: [plan.capability], units }).start(estimate);
  return {
    estimate,
    started,
    early,
    cancel: () => {
      started?.cancel();
      early.discard();
    },
  };
}

/** `given`, or a start asked for now (a request admitted without one: a cache miss, say). */
export async function startOrNow(s: Services, plan: ProxyPlan, given?: ProxyStart): Promise<ProxyStart> {
  return given ?? startProxy(s, plan, await loadTokenCounter());
}

/**
 * Runs `work` under `start`'s reservation and settles what it cost: from the usage `usageOf` finds,
 * priced with the model that served; without usage, the whole reservation (a stream cut short reports
 * none).
 */
export async function budgeted<T>(
  s: Services,
  start: ProxyStart,
  work: (held: Pick<Held, 'keepAlive'>, billing?: AttemptBilling) => Promise<T>,
  usageOf: (value: T) => { model: string; usage: Usage | undefined },
): Promise<T> {
  const { estimate, started } = start;
  try {
    if (!started) return await work({ keepAlive: () => () => undefined });
    const { prices } = s;
    // One proxied call is the whole estimate: another attempt after a billed one needs as much again.
    return await started.run(
      (held) =>
        work(
          held,
          billingFor(held, () => estimate),
        ),
      {
        value: (value) => {
          const { model, usage } = usageOf(value);
          return usage ? costOf(priceOf(prices, model), usage) : estimate;
        },
      },
    );
  } finally {
    start.early.discard();
  }
}
