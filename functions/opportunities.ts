import { Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import { configOf } from '../lib/config';
import { structuredCost, worstCaseStructured } from '../lib/domain/cost';
import {
  OPPORTUNITIES_PROMPT_VERSION,
  OpportunitiesRequest,
  opportunitiesTask,
  withIds,
} from '../lib/domain/opportunities';
import { assertInputApproved } from '../lib/domain/verdicts';
import { moderateContent } from '../lib/moderation';
import { cacheFirst, candidateModels, providersFor, spendFor } from '../lib/request-context';
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
    const result = await cacheFirst(
      c,
      {
        kind: 'opportunities',
        version: `${OPPORTUNITIES_PROMPT_VERSION}:${env.OPENAI_TEXT_MODEL}`,
        fields: { intent: request.intent, context: request.context },
      },
      async () => {
        const { verdict } = await moderateContent(
          { providers, rules: moderation, failClosed: env.MODERATION_FAIL_CLOSED, log: c.get('log') },
          { text: request.intent },
        );
        assertInputApproved(verdict, 'intent');
        const generated = await spendFor(c).run(
          await worstCaseStructured(prices, candidateModels(c, 'text'), task),
          () => providers.structured(task),
          structuredCost(prices, env.OPENAI_TEXT_MODEL),
        );
        const served = { provider: generated.provider, model: generated.model };
        return { value: await withIds(generated.data), served };
      },
    );
    return c.json(result.value, 200, result.headers);
  },
);
