/**
 * The proxy below admission, without Hono: services built from a hand-written scope answer a plan
 * against the real Redis and the simulator, through the cache, the budget and the router, and hand
 * back plain data for the route layer to send.
 */
import { describe, expect, it } from 'vitest';
import { tenantCacheKey } from '../../lib/cache';
import { proxyCacheKeyParts } from '../../lib/proxy/cache-policy';
import type { ProxyPlan } from '../../lib/proxy/plan';
import { relayProxy } from '../../lib/proxy/relay';
import { embeddingsUsage } from '../../lib/proxy/usage';
import { createServices } from '../../lib/services';
import { simRequests } from '../support/providers';
import { KEY, scopeFor } from '../support/services';

const ESTIMATE_NANOS = 5_000;

function embeddingPlan(input: string): ProxyPlan {
  const body = { model: 'text-embedding-3-small', input };
  return {
    path: '/embeddings',
    capability: 'embeddings',
    backups: false,
    model: body.model,
    body,
    upstream: body,
    estimate: () => ({ nanos: ESTIMATE_NANOS, units: 1 }),
    usage: embeddingsUsage,
    cache: 'deterministic',
  };
}

const freshKey = () => ({ ...KEY, id: `key_${crypto.randomUUID().slice(0, 24)}` });

describe('relayProxy', () => {
  it('answers uncached, settling what the usage says, and names who served', async () => {
    const { scope, sim, settled } = scopeFor(freshKey());
    const services = createServices(scope);
    const reply = await relayProxy(services, embeddingPlan(`rain boots ${crypto.randomUUID()}`));
    await settled();
    expect(reply.headers).toMatchObject({ 'content-type': 'application/json', 'x-cache': 'BYPASS' });
    expect(reply.headers['x-gateway-provider']).toBe('openai');
    const body = JSON.parse(reply.body as string) as { data: unknown[]; usage: { prompt_tokens: number } };
    expect(body.data).toHaveLength(1);
    const { scopes } = await services.budget().read([`key:${scope.principal().id}`]);
    // Settled from the usage, not the estimate, and nothing left reserved.
    expect(scopes[0]?.spentNanos).toBeGreaterThan(0);
    expect(scopes[0]?.spentNanos).toBeLessThan(ESTIMATE_NANOS);
    expect(scopes[0]).toMatchObject({ reservedNanos: 0, calls: 1 });
    expect((await simRequests(sim))['/v1/embeddings']).toBe(1);
  });

  it('stores a miss so the next lookup of the same key is a hit, with no second upstream call', async () => {
    const principal = freshKey();
    const plan = embeddingPlan(`trail shoes ${crypto.randomUUID()}`);
    const { scope, sim, settled } = scopeFor(principal);
    const services = createServices(scope);
    const key = await tenantCacheKey(services.env, principal.id, proxyCacheKeyParts(plan.path, plan.body));
    const cache = services.cache([plan.capability]);

    const first = await relayProxy(services, plan, {
      cache,
      key,
      first: await cache.lookup(key),
      writeOnly: false,
    });
    await settled();
    const again = await relayProxy(services, plan, {
      cache,
      key,
      first: await cache.lookup(key),
      writeOnly: false,
    });
    expect(first.headers['x-cache']).toBe('MISS');
    expect(again.headers).toMatchObject({ 'x-cache': 'HIT' });
    expect(again.headers['x-gateway-provider']).toBeUndefined();
    expect(again.body).toBe(first.body);
    expect((await simRequests(sim))['/v1/embeddings']).toBe(1);
  });
});
