/**
 * The OpenAI-compatible proxy's request path, the same protections as the domain endpoints: admission
 * (key and rate limit, with the cache lookup in the same Redis round trip), the cache with
 * single-flight, a budget reservation of the worst case, the call through retries, breakers and (for
 * Chat Completions) backups, then the settle from the answer's usage. A stream renews its reservation's
 * lease every third of it while it is open: one Redis round trip per renewal, none per event. An answer
 * too large to hold (`relay: 'json'`, images) is relayed as it arrives, like a stream. Like
 * lib/cache-first.ts it works on Hono's Context: it is the request-scoped glue, not a capability.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import type { Cache, CacheLookup, CacheStatus } from '../cache';
import { admitAndLookUp, tenantCacheKey, wantsFresh } from '../cache-first';
import { presentedTenant } from '../caller';
import { admit } from '../guards';
import { servedHeaders } from '../providers';
import { callProviders } from '../providers/router';
import { servicesOf } from '../request-services';
import { budgeted, routerOf } from './budgeted';
import { cacheModeOf, proxyCacheKeyParts } from './cache-policy';
import type { OutputLimits } from './estimate';
import { errorEvent } from './frames';
import { relayJson } from './json-relay';
import type { ProxyPlan } from './plan';
import { relaySse } from './sse';
import type { RelayOutcome } from './sse-events';
import { type BodyRelay, type Served, streamed } from './streamed';
import { openJson, openStream, postJson, type UpstreamBytes, type UpstreamStream } from './upstream';
import { usageOfBody } from './usage';

/** A cached answer: the body the client received and who made it. */
interface Answer {
  body: string;
  provider: string;
  model: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const SSE_TYPE = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** The output caps as configured. */
export function outputLimitsFor(c: Context<AppEnv>): OutputLimits {
  const env = c.get('env');
  return { defaultTokens: env.PROXY_DEFAULT_MAX_OUTPUT_TOKENS, maxTokens: env.PROXY_MAX_OUTPUT_TOKENS };
}

/** Runs `plan` for this request and answers with the provider's body, or from the cache. */
export async function proxy(c: Context<AppEnv>, plan: ProxyPlan): Promise<Response> {
  const mode = cacheModeOf({
    body: plan.body,
    policy: plan.cache,
    optIn: c.req.header('x-gateway-cache'),
    noCache: wantsFresh(c),
  });
  if (mode === 'off') {
    await admit(c, async () => undefined, { model: plan.model });
    if (plan.stream) return streamed(c, plan, 'BYPASS', sseRelay(c, plan));
    if (plan.relay === 'json') return streamed(c, plan, 'BYPASS', jsonRelay(c, plan));
    return answered(c, await callJson(c, plan), 'BYPASS');
  }
  const key = await tenantCacheKey(c, await presentedTenant(c), proxyCacheKeyParts(plan.path, plan.body));
  const cache = servicesOf(c).cache([plan.capability]);
  const first = await admitAndLookUp<Answer>(c, cache, key, mode === 'write-only', { model: plan.model });
  if (plan.stream) return streamedWithCache(c, plan, cache, key, first, mode === 'write-only');
  const limit = c.get('env').PROXY_CACHE_MAX_BYTES;
  const result = await cache.getOrProduce<Answer>(
    key,
    async () => {
      const value = await callJson(c, plan);
      return { value, cacheable: value.body.length <= limit };
    },
    { bypass: mode === 'write-only', ...(first ? { first } : {}) },
  );
  return answered(c, result.value, result.status);
}

function answered(c: Context<AppEnv>, answer: Answer, status: CacheStatus): Response {
  const fresh = status === 'MISS' || status === 'BYPASS';
  return c.body(answer.body, 200, {
    ...JSON_TYPE,
    'x-cache': status,
    ...(fresh ? servedHeaders(answer) : {}),
  });
}

async function callJson(c: Context<AppEnv>, plan: ProxyPlan): Promise<Answer> {
  const { deps, policy } = routerOf(c, plan);
  const served = await budgeted(
    c,
    plan,
    (_held, billing) =>
      callProviders(
        billing ? { ...deps, billing } : deps,
        plan.capability,
        policy,
        (target, model) => postJson(target, plan.path, plan.upstream, model),
        { primaryModel: plan.model, usageOf: (value) => usageOfBody(value.json, plan.usage) },
      ),
    (s) => ({ model: s.model, usage: usageOfBody(s.value.json, plan.usage) }),
  );
  return { body: served.value.text, provider: served.provider, model: served.model };
}

/**
 * A stream request that may be cached: a hit is replayed; a miss is stored once it completed, before
 * its last event reaches the client, so the client's next identical request is a HIT.
 */
async function streamedWithCache(
  c: Context<AppEnv>,
  plan: ProxyPlan,
  // The cache that granted `first`'s lease: it alone renews that lease, and stops when it is finished.
  cache: Cache,
  key: string,
  first: CacheLookup<Answer> | undefined,
  writeOnly: boolean,
): Promise<Response> {
  if (first?.kind === 'hit') return c.body(first.value.body, 200, { ...SSE_TYPE, 'x-cache': 'HIT' });
  // Identical streams in flight do not wait for each other: waiting would hold back every byte.
  let finished = false;
  const release = async () => {
    if (finished || !first) return;
    finished = true;
    await cache.release(first);
  };
  const relay = sseRelay(c, plan, async (outcome, served) => {
    // `recorded` is only there for a stream that completed, within PROXY_CACHE_MAX_BYTES.
    if (outcome.recorded === undefined) return;
    finished = true;
    await cache.store<Answer>(key, { body: outcome.recorded, ...served }, first);
  });
  return streamed(c, plan, writeOnly ? 'BYPASS' : 'MISS', relay, release).catch(async (err) => {
    await release();
    throw err;
  });
}

/**
 * Server-sent events, relayed one whole event at a time; `beforeEnd` runs before the last event is sent
 * (the cache write a client's next request must see).
 */
function sseRelay(
  c: Context<AppEnv>,
  plan: ProxyPlan,
  beforeEnd?: (outcome: RelayOutcome, served: Served) => Promise<void>,
): BodyRelay<UpstreamStream> {
  const stream = plan.stream as NonNullable<ProxyPlan['stream']>;
  const env = c.get('env');
  return {
    headers: SSE_TYPE,
    open: (target, model) => openStream(target, plan.path, plan.upstream, model),
    relay: (opened, served) =>
      relaySse(opened.reader, opened.first, {
        ...stream,
        idleTimeoutMs: env.OPENAI_TIMEOUT_SECONDS * 1000,
        drainMs: env.PROXY_DRAIN_SECONDS * 1000,
        recordLimit: env.PROXY_CACHE_MAX_BYTES,
        errorEvent: (error) => errorEvent(stream.api, error, c.get('requestId')),
        ...(beforeEnd ? { beforeEnd: (outcome) => beforeEnd(outcome, served) } : {}),
      }),
  };
}

/** A JSON answer relayed chunk by chunk as it arrives, its `usage` read on the way. */
function jsonRelay(c: Context<AppEnv>, plan: ProxyPlan): BodyRelay<UpstreamBytes> {
  const env = c.get('env');
  return {
    headers: JSON_TYPE,
    open: (target, model) => openJson(target, plan.path, plan.upstream, model),
    relay: (opened) => {
      const { body, outcome } = relayJson(opened.reader, opened.first, {
        field: 'usage',
        idleTimeoutMs: env.OPENAI_TIMEOUT_SECONDS * 1000,
        drainMs: env.PROXY_DRAIN_SECONDS * 1000,
      });
      return { body, outcome: outcome.then(({ field }) => ({ usage: plan.usage(field) })) };
    },
  };
}
