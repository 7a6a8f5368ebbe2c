import { Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import {
  OpportunitiesRequest,
  opportunitiesTask,
  opportunitiesText,
  withIds,
} from '../lib/domain/opportunities';
import { assertInputApproved, assertOpportunitiesApproved } from '../lib/domain/verdicts';
import { generateFor, markDegraded } from '../lib/generation';
import { moderateContent } from '../lib/moderation';
import { opportunityFields, opportunityKeyParts } from '../lib/opportunity-keys';
import { cacheFirst, moderationFor, variantFor } from '../lib/request-context';
import { valid } from '../lib/validate';
import { withVariant } from '../lib/variants';

/**
 * `POST /v1/opportunities` (the platform's DAST): cache first; on a miss the intent is moderated
 * (a flagged intent costs nothing and gets `400 content_policy_violation`), the worst case is
 * reserved, one structured generation runs behind retries, breaker and backups, and the result is
 * validated, settled, moderated by all three layers and cached. A flagged answer is `422
 * creative_rejected`, never cached or returned, though what it cost is settled. While the moderation
 * API is down, a miss fails closed with 503 before generating (MODERATION_FAIL_CLOSED), as creatives
 * do; hits are still served. Identical concurrent misses generate once (single-flight). The model
 * follows MODEL_POLICY; a prompt variant, when configured, joins the cache key.
 */
export const opportunities = new Hono<AppEnv>().post(
  '/v1/opportunities',
  valid('json', OpportunitiesRequest),
  async (c) => {
    const request = c.req.valid('json');
    const env = c.get('env');
    const variant = variantFor(c, 'opportunities', opportunityFields(request));
    const result = await cacheFirst(c, opportunityKeyParts(env, request, variant), async () => {
      // The answer is moderated before it is cached or served (issue #16), so an outage that would
      // leave it unchecked refuses the intent already, before anything is spent.
      const moderation = moderationFor(c);
      const { verdict } = await moderateContent(moderation, { text: request.intent });
      assertInputApproved(verdict, 'intent');
      const made = await generateFor(
        c,
        'opportunities',
        withVariant(opportunitiesTask(request), variant),
        variant,
        async (output) => {
          const answer = await moderateContent(moderation, { text: opportunitiesText(output) });
          assertOpportunitiesApproved(answer.verdict);
        },
      );
      return { value: markDegraded(await withIds(made.data), made.degraded), served: made.served };
    });
    return c.json(result.value, 200, result.headers);
  },
);
