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
import type { Principal } from '../principal';
import { servicesOf } from '../request-services';
import { loadTokenCounter } from '../tokens';
import { type ProxyStart, startProxy } from './budgeted';
import { cacheModeOf, proxyCacheKeyParts } from './cache-policy';
import type { ProxyPlan } from './plan';
import { type Answer, relayProxy } from './relay';

/**
 * Admits the request with the call's reservation and first permit in the same round trip (for a key
 * the isolate knows; a new key's are asked for once its lookup returned). A start made for a principal
 * that admission then found changed (PATCHed meanwhile) is undone and made again, for the key as it is.
 */
async function admitAndStart(c: Context<AppEnv>, plan: ProxyPlan): Promise<ProxyStart> {
  const services = servicesOf(c);
  // Loaded before admission (once per isolate), so the estimate is synchronous and the reservation
  // leaves in admission's tick; it remembers the caller's long texts (its system prompt) for the caller
  // alone.
  const counter = await loadTokenCounter();
  let start: ProxyStart | undefined;
  let actedFor: Principal | undefined;
  try {
    await admit(
      c,
      async () => {
        actedFor = services.principal();
        start = startProxy(services, plan, counter.forTenant(actedFor.id));
      },
      { model: plan.model },
    );
  } catch (err) {
    start?.cancel();
    throw err;
  }
  // Usually the very principal it started for (admission keeps it when the lookup finds the key as
  // remembered); compared by value only when admission set a new one.
  const current = services.principal();
  if (start && (actedFor === current || JSON.stringify(actedFor) === JSON.stringify(current))) return start;
  start?.cancel();
  return startProxy(services, plan, counter.forTenant(current.id));
}

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
    const reply = await relayProxy(services, plan, undefined, await admitAndStart(c, plan));
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
