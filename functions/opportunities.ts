import { Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import { configOf } from '../lib/config';
import {
  OPPORTUNITIES_PROMPT_VERSION,
  OpportunitiesRequest,
  opportunitiesTask,
  withIds,
} from '../lib/domain/opportunities';
import { assertInputApproved } from '../lib/domain/verdicts';
import { generateFor, markDegraded } from '../lib/generation';
import { modelsFor } from '../lib/model-policy';
import { moderateContent } from '../lib/moderation';
import { cacheFirst, providersFor, variantFor } from '../lib/request-context';
import { valid } from '../lib/validate';
import { variantField, withVariant } from '../lib/variants';

/**
 * `POST /v1/opportunities` (the platform's DAST): cache first; on a miss the intent is moderated
 * (a flagged intent costs nothing and gets `400 content_policy_violation`), the worst case is
 * reserved, one structured generation runs behind retries, breaker and backups, and the result is
 * validated, settled and cached. Identical concurrent misses generate once (single-flight). The model
 * follows MODEL_POLICY; a prompt variant, when configured, joins the cache key.
 */
export const opportunities = new Hono<AppEnv>().post(
  '/v1/opportunities',
  valid('json', OpportunitiesRequest),
  async (c) => {
    const request = c.req.valid('json');
    const env = c.get('env');
    const fields = { intent: request.intent, context: request.context };
    const variant = variantFor(c, 'opportunities', fields);
    const result = await cacheFirst(
      c,
      {
        kind: 'opportunities',
        version: `${OPPORTUNITIES_PROMPT_VERSION}:${modelsFor(env, 'opportunities').model}`,
        fields: { ...fields, ...variantField(variant) },
      },
      async () => {
        const { verdict } = await moderateContent(
          {
            providers: providersFor(c),
            rules: configOf(env).moderation,
            failClosed: env.MODERATION_FAIL_CLOSED,
            log: c.get('log'),
          },
          { text: request.intent },
        );
        assertInputApproved(verdict, 'intent');
        const made = await generateFor(
          c,
          'opportunities',
          withVariant(opportunitiesTask(request), variant),
          variant,
        );
        return { value: markDegraded(await withIds(made.data), made.degraded), served: made.served };
      },
    );
    return c.json(result.value, 200, result.headers);
  },
);
