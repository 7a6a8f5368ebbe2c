/**
 * The bulk capabilities as one request uses them, built from its services (lib/services.ts): the job
 * store, the caller's identity, and what submitting needs (the budget scopes spending uses, cache keys
 * in the caller's namespace, prompt variants as the single endpoints pick them).
 */
import { holdAlongside } from '../budget/alongside';
import { tenantCacheKey } from '../cache';
import { configOf } from '../config';
import type { Usage } from '../providers';
import type { Services } from '../services';
import { batchCost } from './cost';
import type { JobRecord } from './job';
import { createJobStore } from './jobs';
import { reserveJob } from './ledger';
import type { SubmitDeps } from './submit-deps';
import { jobView, type ResultsPage } from './view';

export function bulkFor(services: Services) {
  const { env, deps } = services;
  const principal = services.principal();
  const primary = deps.providers()[0];
  if (!primary) throw new Error('no provider is configured');
  const store = createJobStore(deps.redis, {
    resultsTtlSeconds: env.BULK_RESULTS_TTL_SECONDS,
    now: deps.now,
  });
  const costOf = (model: string) => (usage: Usage) => {
    const price = configOf(env).prices.price(model);
    return price ? batchCost(price, usage) : 0;
  };

  return {
    store,
    client: primary.client,
    /** Only the key that submitted a job may see or cancel it. */
    owns: (record: JobRecord) => record.job.owner === principal.id,
    view: (record: JobRecord, page?: ResultsPage) => jobView(record, costOf(record.job.model), page),

    submitDeps(): SubmitDeps {
      const budget = services.budget();
      const { scopes, describe } = services.budgetScopes();
      return {
        env,
        store,
        client: primary.client,
        // The units go in the reservation's round trip; a refusal of the units gives the hold back.
        reserve: (amount, units) =>
          holdAlongside(
            reserveJob({ budget, now: deps.now }, scopes, amount, describe),
            services.units(units),
            (held) => services.defer(budget.release(held).catch(() => undefined)),
          ),
        release: (reservation) => budget.release(reservation),
        cacheKey: (parts) => tenantCacheKey(env, principal.id, parts),
        variant: (task, unit) => services.variant(task, unit),
        owner: principal.id,
        newId: deps.newId,
        now: deps.now,
        defer: services.defer,
        log: services.log,
      };
    },
  };
}
