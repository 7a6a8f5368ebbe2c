import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { cacheFirst } from '../lib/cache-first';
import { OpportunitiesRequest, opportunitiesText, withIds } from '../lib/domain/opportunities';
import { opportunitiesTask } from '../lib/domain/opportunities-prompt';
import { assertInputApproved, assertOpportunitiesApproved } from '../lib/domain/verdicts';
import { generate, markDegraded } from '../lib/generation';
import { admitsInHandler } from '../lib/guards';
import { moderateContent } from '../lib/moderation';
import { opportunityFields, opportunityKeyParts } from '../lib/opportunity-keys';
import { servicesOf } from '../lib/request-services';
import { valid } from '../lib/validate';
import { withVariant } from '../lib/variants';

/**
 * `POST /v1/opportunities` (the platform's DAST): cache first; on a miss the intent is moderated
 * (a flagged intent costs nothing and gets `400 content_policy_violation`), the worst case is
 * reserved, one structured generation runs behind retries, breaker and backups, and the result is
 * validated, settled, moderated by all three layers and cached. A flagged answer is `422
 * creative_rejected`, never cached or returned, though what it cost is settled. While the moderation
 * API is down, the local layers alone check intent and answer, and that answer is not cached. Identical concurrent misses generate once (single-flight). The model
 * follows MODEL_POLICY; a prompt variant, when configured, joins the cache key.
 */
export const opportunities = new Hono<AppEnv>().post(
  '/v1/opportunities',
  admitsInHandler,
  valid('json', OpportunitiesRequest),
  async (c) => {
    const request = c.req.valid('json');
    const env = c.get('env');
    const variant = servicesOf(c).variant('opportunities', opportunityFields(request));
    let localOnly = false;
    const result = await cacheFirst(c, opportunityKeyParts(env, request, variant), async () => {
      // Opportunities are signals for the platform, not published copy: while the moderation API is
      // down the intent and the answer are checked by the local layers alone, so the endpoint stays up
      // through an OpenAI outage; such an answer is served to this request only, never cached, so the
      // next one after the outage gets all three layers.
      const moderation = { ...servicesOf(c).moderation, failClosed: false };
      const { verdict } = await moderateContent(moderation, { text: request.intent });
      assertInputApproved(verdict, 'intent');
      const made = await generate(servicesOf(c), {
        policyTask: 'opportunities',
        task: withVariant(opportunitiesTask(request), variant),
        variant,
        finish: async (output) => {
          const answer = await moderateContent(moderation, { text: opportunitiesText(output) });
          assertOpportunitiesApproved(answer.verdict);
          localOnly = [verdict, answer.verdict].some((v) => v.checked.openai === 'unavailable');
          return output;
        },
        // One opportunity set per fresh generation served (hits are not generations).
        approved: () => 1,
      });
      const value = markDegraded(await withIds(made.data), made.degraded);
      return { value, served: made.served, cacheable: !localOnly };
    });
    const headers = localOnly ? { ...result.headers, [LOCAL_ONLY.header]: LOCAL_ONLY.value } : result.headers;
    return c.json(result.value, 200, headers);
  },
);

/** Marks an answer only the local layers checked (the moderation API was down): served, not cached. */
export const LOCAL_ONLY = { header: 'x-gateway-moderation', value: 'local-only' } as const;
