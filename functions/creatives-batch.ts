import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app-env';
import { admitAndLookUpMany, presentedTenantKey, wantsFresh } from '../lib/cache-first';
import { type Outcome, settleEntries } from '../lib/creatives/batch';
import {
  type CreativeValue,
  creativeFields,
  creativeKeyParts,
  TEXT_AND_IMAGE,
} from '../lib/creatives/pipeline';
import { type Creative, CreativeRequest } from '../lib/creatives/schema';
import type { Entry } from '../lib/creatives/together';
import { GatewayError, InternalError, InvalidRequestError, type ItemError, itemErrorOf } from '../lib/errors';
import { admitsInHandler } from '../lib/guards';
import { nanosToUsd } from '../lib/pricing';
import { servicesOf } from '../lib/request-services';
import { valid } from '../lib/validate';

/** Hard ceiling of the body schema; CREATIVES_BATCH_MAX_ITEMS (≤ this) is the configured one. */
const ITEMS_CEILING = 50;

export const BatchRequest = z.strictObject({
  items: z.array(z.unknown()).min(1, 'must hold at least one creative request').max(ITEMS_CEILING),
});

type ItemResult =
  | { ok: true; creative: Creative; cost_usd: number }
  | { ok: false; error: ItemError; cost_usd: number };

/**
 * `POST /v1/creatives/batch`: up to CREATIVES_BATCH_MAX_ITEMS creative requests in, one result per
 * item out, in input order. Admission and every item's cache lookup share one Redis round trip; the
 * misses are generated together in ONE structured call (per prompt variant), then each is moderated,
 * given its image and cached on its own, exactly as `POST /v1/creatives` would (the two share the
 * cache). One bad item never fails the others; each result carries what it cost.
 */
export const creativesBatch = new Hono<AppEnv>().post(
  '/v1/creatives/batch',
  admitsInHandler,
  valid('json', BatchRequest),
  async (c) => {
    const { items } = c.req.valid('json');
    const env = c.get('env');
    if (items.length > env.CREATIVES_BATCH_MAX_ITEMS) {
      throw new InvalidRequestError({
        message: `A batch takes at most ${env.CREATIVES_BATCH_MAX_ITEMS} items; this one has ${items.length}.`,
        param: 'items',
      });
    }
    const parsed = items.map((item) => CreativeRequest.safeParse(item));
    const tenantKey = await presentedTenantKey(c);
    const entries = new Map<string, Entry>();
    const keyOfItem = await Promise.all(
      parsed.map(async (p) => {
        if (!p.success) return undefined;
        const variant = servicesOf(c).variant('creatives', creativeFields(p.data));
        const parts = creativeKeyParts(env, p.data, variant, 'creatives_batch');
        const key = await tenantKey(parts);
        if (!entries.has(key)) entries.set(key, { request: p.data, variant, key, keyVersion: parts.version });
        return key;
      }),
    );

    const services = servicesOf(c);
    const cache = services.cache(TEXT_AND_IMAGE);
    const bypass = wantsFresh(c);
    const keys = [...entries.keys()];
    const lookups = await admitAndLookUpMany<CreativeValue>(c, cache, keys, bypass);
    const outcomes = await settleEntries(services, [...entries.values()], { cache, lookups, bypass });
    const results = parsed.map((p, i): ItemResult => {
      if (!p.success) {
        const error = new InvalidRequestError({
          message: `items[${i}]: ${p.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}`,
          param: `items[${i}]`,
        });
        return { ok: false, error: itemError(c, error), cost_usd: 0 };
      }
      const key = keyOfItem[i] as string;
      const entry = entries.get(key) as Entry;
      const outcome = outcomes.get(key) as Outcome;
      // A duplicate item is answered from the first one's result and billed nothing more.
      const first = keyOfItem.indexOf(key) === i;
      const cost_usd = first ? nanosToUsd(outcome.costNanos) : 0;
      if (!outcome.value) return { ok: false, error: itemError(c, outcome.error), cost_usd };
      const creative: Creative = {
        ...outcome.value,
        cache: { status: first ? (outcome.status ?? 'MISS') : 'HIT', key_version: entry.keyVersion },
      };
      return { ok: true, creative, cost_usd };
    });
    const served = results.filter((r) => r.ok).length;
    return c.json({ results }, 200, {
      'x-batch-served': String(served),
      'x-batch-failed': String(results.length - served),
    });
  },
);

/** A per-item error as the client sees it: the error body without a request id (the response has one). */
function itemError(c: Context<AppEnv>, error: unknown): ItemError {
  if (error instanceof GatewayError) return itemErrorOf(error);
  c.get('log').error('batch item failed unexpectedly', { cause: error });
  return itemErrorOf(new InternalError({ message: 'This item failed unexpectedly.' }));
}
