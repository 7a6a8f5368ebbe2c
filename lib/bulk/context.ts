/**
 * The bulk capabilities as one request uses them, built from the request's env, deps and principal (the
 * bulk counterpart of lib/request-services.ts, and like it the one bulk module that knows Hono): the job
 * store, the caller's identity, and what submitting needs (budget scopes as spendFor builds them, cache
 * keys in the caller's namespace, prompt variants as the single endpoints pick them).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { holdAlongside } from '../budget/alongside';
import { tenantCacheKey } from '../cache-first';
import { configOf } from '../config';
import type { Usage } from '../providers';
import { servicesOf, variantFor } from '../request-services';
import { batchCost } from './cost';
import type { JobRecord } from './job';
import { createJobStore } from './jobs';
import { reserveJob } from './ledger';
import type { SubmitDeps } from './submit-deps';
import { jobView, type ResultsPage } from './view';

export function bulkFor(c: Context<AppEnv>) {
  const env = c.get('env');
  const deps = c.get('deps');
  const principal = c.get('principal');
  const primary = deps.providers[0];
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
      const budget = servicesOf(c).budget();
      const { scopes, describe } = servicesOf(c).budgetScopes();
      return {
        env,
        store,
        client: primary.client,
        // The units go in the reservation's round trip; a refusal of the units gives the hold back.
        reserve: (amount, units) =>
          holdAlongside(
            reserveJob({ budget, now: deps.now }, scopes, amount, describe),
            servicesOf(c).units(units),
            (held) => c.executionCtx.waitUntil(budget.release(held).catch(() => undefined)),
          ),
        release: (reservation) => budget.release(reservation),
        cacheKey: (parts) => tenantCacheKey(c, principal.id, parts),
        variant: (task, unit) => variantFor(c, task, unit),
        owner: principal.id,
        newId: deps.newId,
        now: deps.now,
        defer: (work) => c.executionCtx.waitUntil(work),
        log: c.get('log'),
      };
    },
  };
}
