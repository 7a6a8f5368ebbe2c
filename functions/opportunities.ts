import { Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import { configOf } from '../lib/config';
import { structuredCost, worstCaseStructured } from '../lib/domain/cost';
import {
  OPPORTUNITIES_PROMPT_VERSION,
  OpportunitiesRequest,
  type OpportunitiesResponse,
  opportunitiesTask,
  withIds,
} from '../lib/domain/opportunities';
import { assertInputApproved } from '../lib/domain/verdicts';
import { presentedTenant } from '../lib/guards';
import { moderateContent } from '../lib/moderation';
import { servedHeaders } from '../lib/providers';
import {
  admitAndLookUp,
  cacheFor,
  providersFor,
  spendFor,
  tenantCacheKey,
  wantsFresh,
} from '../lib/request-context';
import { valid } from '../lib/validate';

/**
 * `POST /v1/opportunities` (the platform's DAST): cache first; on a miss the intent is moderated
 * (a flagged intent costs nothing and gets `400 content_policy_violation`), the worst case is
 * reserved, one structured generation runs behind retries, breaker and backups, and the result is
 * validated, settled and cached. Identical concurrent misses generate once (single-flight).
 */
export const opportunities = new Hono<AppEnv>().post(
  '/v1/opportunities',
  valid('json', OpportunitiesRequest),
  async (c) => {
    const request = c.req.valid('json');
    const env = c.get('env');
    const { prices, moderation } = configOf(env);
    const providers = providersFor(c);
    const task = opportunitiesTask(request);
    const key = await tenantCacheKey(c, await presentedTenant(c), {
      kind: 'opportunities',
      version: `${OPPORTUNITIES_PROMPT_VERSION}:${env.OPENAI_TEXT_MODEL}`,
      fields: { intent: request.intent, context: request.context },
    });
    let served: { provider: string; model: string } | null = null;
    const cache = cacheFor(c);
    const bypass = wantsFresh(c);
    const first = await admitAndLookUp<OpportunitiesResponse>(c, cache, key, bypass);
    const result = await cache.getOrProduce<OpportunitiesResponse>(
      key,
      async () => {
        const { verdict } = await moderateContent(
          { providers, rules: moderation, failClosed: env.MODERATION_FAIL_CLOSED, log: c.get('log') },
          { text: request.intent },
        );
        assertInputApproved(verdict, 'intent');
        const models = candidateModels(c, 'text');
        const generated = await spendFor(c).run(
          await worstCaseStructured(prices, models, task),
          () => providers.structured(task),
          structuredCost(prices, env.OPENAI_TEXT_MODEL),
        );
        served = { provider: generated.provider, model: generated.model };
        return { value: await withIds(generated.data), cacheable: true };
      },
      { bypass, ...(first ? { first } : {}) },
    );
    return c.json(result.value, 200, {
      'x-cache': result.status,
      ...(served ? servedHeaders(served) : {}),
    });
  },
);

/** The models that may serve `capability`: the primary's and every backup's that offers it. */
function candidateModels(c: Parameters<typeof providersFor>[0], capability: 'text' | 'vision'): string[] {
  return c
    .get('deps')
    .providers.map((p) => p.models[capability])
    .filter((m): m is string => typeof m === 'string');
}
