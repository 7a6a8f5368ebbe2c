import { Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import { OpportunitiesRequest, opportunitiesTask, withIds } from '../lib/domain/opportunities';
import { assertInputApproved } from '../lib/domain/verdicts';
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
 * validated, settled and cached. Identical concurrent misses generate once (single-flight). The model
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
      // The intent is never published: while the moderation API is down, the local layers alone
      // screen it, so opportunities stay up through an OpenAI outage (creatives still fail closed).
      const screening = { ...moderationFor(c), failClosed: false };
      const { verdict } = await moderateContent(screening, { text: request.intent });
      assertInputApproved(verdict, 'intent');
      const made = await generateFor(
        c,
        'opportunities',
        withVariant(opportunitiesTask(request), variant),
        variant,
      );
      return { value: markDegraded(await withIds(made.data), made.degraded), served: made.served };
    });
    return c.json(result.value, 200, result.headers);
  },
);
