/**
 * The OpenAI-compatible proxy below admission (lib/proxy/admission.ts admits and looks the cache up):
 * the cache with single-flight, a budget reservation of the worst case, the call through retries,
 * breakers and (for Chat Completions) backups, then the settle from the answer's usage. A stream renews
 * its reservation's lease every third of it while it is open: one Redis round trip per renewal, none
 * per event. An answer too large to hold (`relay: 'json'`, images) is relayed as it arrives, like a
 * stream. Answers are plain data (a body and headers); the route layer makes the Response.
 */
import type { Cache, CacheLookup, CacheStatus } from '../cache';
import type { Env } from '../env';
import { servedHeaders } from '../providers';
import { callProviders } from '../providers/router';
import type { Services } from '../services';
import { budgeted, type ProxyStart, routerOf, startOrNow } from './budgeted';
import type { OutputLimits } from './estimate';
import { errorEvent } from './frames';
import { relayJson } from './json-relay';
import type { ProxyPlan } from './plan';
import { relaySse } from './sse';
import type { RelayOutcome } from './sse-events';
import { type BodyRelay, type Reply, type Served, streamed } from './streamed';
import { openJson, openStream, postJson, type UpstreamBytes, type UpstreamStream } from './upstream';
import { usageOfBody } from './usage';

/** A cached answer: the body the client received and who made it. */
export interface Answer {
  body: string;
  provider: string;
  model: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const SSE_TYPE = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** The output caps as configured. */
export function outputLimitsFor(env: Env): OutputLimits {
  return { defaultTokens: env.PROXY_DEFAULT_MAX_OUTPUT_TOKENS, maxTokens: env.PROXY_MAX_OUTPUT_TOKENS };
}

/** What admission found in the cache for a request that may be cached: its key, and the lookup's answer. */
export interface CachedProxy {
  cache: Cache;
  key: string;
  first: CacheLookup<Answer> | undefined;
  /** `cache-control: no-cache`: no read, but the answer is stored. */
  writeOnly: boolean;
}

/**
 * Answers `plan` upstream: uncached under the reservation admission started (`start`), or through the
 * cache admission looked up (`cached`), reserving on a miss.
 */
export async function relayProxy(
  s: Services,
  plan: ProxyPlan,
  cached?: CachedProxy,
  start?: ProxyStart,
): Promise<Reply> {
  if (!cached) {
    if (plan.stream) return streamed(s, plan, 'BYPASS', sseRelay(s, plan), undefined, start);
    if (plan.relay === 'json') return streamed(s, plan, 'BYPASS', jsonRelay(s, plan), undefined, start);
    return answered(await callJson(s, plan, start), 'BYPASS');
  }
  const { cache, key, first, writeOnly } = cached;
  if (plan.stream) return streamedWithCache(s, plan, cached);
  const limit = s.env.PROXY_CACHE_MAX_BYTES;
  const result = await cache.getOrProduce<Answer>(
    key,
    async () => {
      const value = await callJson(s, plan);
      return { value, cacheable: value.body.length <= limit };
    },
    { bypass: writeOnly, ...(first ? { first } : {}) },
  );
  return answered(result.value, result.status);
}

function answered(answer: Answer, status: CacheStatus): Reply {
  const fresh = status === 'MISS' || status === 'BYPASS';
  return {
    body: answer.body,
    headers: { ...JSON_TYPE, 'x-cache': status, ...(fresh ? servedHeaders(answer) : {}) },
  };
}

async function callJson(s: Services, plan: ProxyPlan, given?: ProxyStart): Promise<Answer> {
  const start = await startOrNow(s, plan, given);
  const { deps, policy } = routerOf(s, plan, start.early);
  const served = await budgeted(
    s,
    start,
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
  s: Services,
  plan: ProxyPlan,
  // `cache` granted `first`'s lease: it alone renews that lease, and stops when it is finished.
  { cache, key, first, writeOnly }: CachedProxy,
): Promise<Reply> {
  if (first?.kind === 'hit') return { body: first.value.body, headers: { ...SSE_TYPE, 'x-cache': 'HIT' } };
  // Identical streams in flight do not wait for each other: waiting would hold back every byte.
  let finished = false;
  const release = async () => {
    if (finished || !first) return;
    finished = true;
    await cache.release(first);
  };
  const relay = sseRelay(s, plan, async (outcome, served) => {
    // `recorded` is only there for a stream that completed, within PROXY_CACHE_MAX_BYTES.
    if (outcome.recorded === undefined) return;
    finished = true;
    await cache.store<Answer>(key, { body: outcome.recorded, ...served }, first);
  });
  return streamed(s, plan, writeOnly ? 'BYPASS' : 'MISS', relay, release).catch(async (err) => {
    await release();
    throw err;
  });
}

/**
 * Server-sent events, relayed one whole event at a time; `beforeEnd` runs before the last event is sent
 * (the cache write a client's next request must see).
 */
function sseRelay(
  s: Services,
  plan: ProxyPlan,
  beforeEnd?: (outcome: RelayOutcome, served: Served) => Promise<void>,
): BodyRelay<UpstreamStream> {
  const stream = plan.stream as NonNullable<ProxyPlan['stream']>;
  const { env } = s;
  return {
    headers: SSE_TYPE,
    open: (target, model) => openStream(target, plan.path, plan.upstream, model),
    relay: (opened, served) =>
      relaySse(opened.reader, opened.first, {
        ...stream,
        idleTimeoutMs: env.OPENAI_TIMEOUT_SECONDS * 1000,
        drainMs: env.PROXY_DRAIN_SECONDS * 1000,
        recordLimit: env.PROXY_CACHE_MAX_BYTES,
        errorEvent: (error) => errorEvent(stream.api, error, s.requestId),
        ...(beforeEnd ? { beforeEnd: (outcome) => beforeEnd(outcome, served) } : {}),
      }),
  };
}

/** A JSON answer relayed chunk by chunk as it arrives, its `usage` read on the way. */
function jsonRelay(s: Services, plan: ProxyPlan): BodyRelay<UpstreamBytes> {
  const { env } = s;
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
