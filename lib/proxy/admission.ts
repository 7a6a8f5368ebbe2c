/**
 * The proxy's admission, the one proxy module on Hono's Context: the key and rate limit, with the
 * cache lookup in the same Redis round trip when the answer may be cached; then the request's services
 * answer it (relay.ts) and the reply becomes the Response.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { tenantCacheKey } from '../cache';
import { admitAndLookUp, wantsFresh } from '../cache-first';
import { presentedTenant } from '../caller';
import { admit } from '../guards';
import { servicesOf } from '../request-services';
import { cacheModeOf, proxyCacheKeyParts } from './cache-policy';
import type { ProxyPlan } from './plan';
import { type Answer, relayProxy } from './relay';

/** Admits the request, then answers `plan` with the provider's body, or from the cache. */
export async function proxy(c: Context<AppEnv>, plan: ProxyPlan): Promise<Response> {
  const mode = cacheModeOf({
    body: plan.body,
    policy: plan.cache,
    optIn: c.req.header('x-gateway-cache'),
    noCache: wantsFresh(c),
  });
  const services = servicesOf(c);
  if (mode === 'off') {
    await admit(c, async () => undefined, { model: plan.model });
    const reply = await relayProxy(services, plan);
    return c.body(reply.body, 200, reply.headers);
  }
  const tenant = await presentedTenant(c);
  const key = await tenantCacheKey(services.env, tenant, proxyCacheKeyParts(plan.path, plan.body));
  const cache = services.cache([plan.capability]);
  const writeOnly = mode === 'write-only';
  const first = await admitAndLookUp<Answer>(c, cache, key, writeOnly, { model: plan.model });
  const reply = await relayProxy(services, plan, { cache, key, first, writeOnly });
  return c.body(reply.body, 200, reply.headers);
}
