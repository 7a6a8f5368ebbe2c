/**
 * The OpenAI-compatible proxy's request path, the same protections as the domain endpoints: admission
 * (key and rate limit, with the cache lookup in the same Redis round trip), the cache with
 * single-flight, a budget reservation of the worst case, the call through retries, breakers and (for
 * Chat Completions) backups, then the settle from the answer's usage. A stream renews its reservation's
 * lease every third of it while it is open: one Redis round trip per renewal, none per event. Like
 * lib/request-context.ts it works on Hono's Context: it is the request-scoped glue, not a capability.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app';
import type { CacheLookup, CacheStatus } from '../cache';
import { configOf } from '../config';
import { priceOf } from '../domain/cost';
import type { Capability } from '../env';
import { admit, presentedTenant } from '../guards';
import { costOf, type Nanos } from '../pricing';
import { servedHeaders, type Usage } from '../providers';
import { type AttemptBilling, callProviders, type ObservedCall, type RouterDeps } from '../providers/router';
import {
  admitAndLookUp,
  billingFor,
  cacheFor,
  routerFor,
  spendFor,
  tenantCacheKey,
  wantsFresh,
} from '../request-context';
import type { Held } from '../spend';
import { type CachePolicy, cacheModeOf, proxyCacheKeyParts } from './cache-policy';
import type { OutputLimits } from './estimate';
import { errorEvent } from './frames';
import { type RelayOutcome, relaySse, type StreamApi } from './sse';
import { openStream, postJson } from './upstream';
import { type UsageReader, usageOfBody } from './usage';

/** One proxied call, as an endpoint plans it. */
export interface ProxyPlan {
  /** Path under the provider's base URL, e.g. `/chat/completions`. */
  path: string;
  capability: Capability;
  /** Chat Completions may be served by a backup; the other APIs only by the primary (see the README). */
  backups: boolean;
  /** The model asked for (the primary's); a backup uses its own. */
  model: string;
  /** The request as the client sent it after the gateway's output cap: the cache key. */
  body: Record<string, unknown>;
  /** What goes upstream: `body`, plus what the gateway needs (say, usage in a stream). */
  upstream: Record<string, unknown>;
  /**
   * The reservation, the dearest candidate's worst case; 0 for a free API (nothing is reserved).
   * Computed only after admission and a cache miss: counting a prompt's tokens costs CPU.
   */
  estimate: () => Nanos | Promise<Nanos>;
  usage: UsageReader;
  cache: CachePolicy;
  /** Set for `stream: true`. */
  stream?: { api: StreamApi; dropUsageChunk: boolean };
}

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
    await admit(c, async () => undefined);
    return plan.stream ? streamed(c, plan, 'BYPASS') : answered(c, await callJson(c, plan), 'BYPASS');
  }
  const key = await tenantCacheKey(c, await presentedTenant(c), proxyCacheKeyParts(plan.path, plan.body));
  const cache = cacheFor(c, [plan.capability]);
  const first = await admitAndLookUp<Answer>(c, cache, key, mode === 'write-only');
  if (plan.stream) return streamedWithCache(c, plan, key, first, mode === 'write-only');
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

/** The router for `plan`: every provider offering its capability, or the primary alone. */
function routerOf(c: Context<AppEnv>, plan: ProxyPlan): ReturnType<typeof routerFor> {
  const { deps, policy } = routerFor(c);
  const providers: RouterDeps['providers'] = plan.backups ? deps.providers : deps.providers.slice(0, 1);
  return { deps: { ...deps, providers }, policy };
}

/**
 * Reserves the worst case, runs `work`, settles what it cost: from the usage `usageOf` finds, priced
 * with the model that served; without usage, the whole reservation (a stream cut short reports none).
 * A free API (estimate 0) skips the budget.
 */
async function budgeted<T>(
  c: Context<AppEnv>,
  plan: ProxyPlan,
  work: (held: Pick<Held, 'keepAlive'>, billing?: AttemptBilling) => Promise<T>,
  usageOf: (value: T) => { model: string; usage: Usage | undefined },
): Promise<T> {
  const estimate = await plan.estimate();
  if (estimate === 0) return work({ keepAlive: () => () => undefined });
  const { prices } = configOf(c.get('env'));
  // One proxied call is the whole estimate: another attempt after a billed one needs as much again.
  const run = (held: Held) =>
    work(
      held,
      billingFor(held, () => estimate),
    );
  return spendFor(c, { uses: [plan.capability] }).run(estimate, run, {
    value: (value) => {
      const { model, usage } = usageOf(value);
      return usage ? costOf(priceOf(prices, model), usage) : estimate;
    },
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
  key: string,
  first: CacheLookup<Answer> | undefined,
  writeOnly: boolean,
): Promise<Response> {
  if (first?.kind === 'hit') return c.body(first.value.body, 200, { ...SSE_TYPE, 'x-cache': 'HIT' });
  const cache = cacheFor(c, [plan.capability]);
  // Identical streams in flight do not wait for each other: waiting would hold back every byte.
  let finished = false;
  const release = async () => {
    if (finished || !first) return;
    finished = true;
    await cache.release(first);
  };
  return streamed(c, plan, writeOnly ? 'BYPASS' : 'MISS', {
    beforeEnd: async (outcome, served) => {
      // `recorded` is only there for a stream that completed, within PROXY_CACHE_MAX_BYTES.
      if (outcome.recorded === undefined) return;
      finished = true;
      await cache.store<Answer>(key, { body: outcome.recorded, ...served }, first);
    },
    after: release,
  }).catch(async (err) => {
    await release();
    throw err;
  });
}

type Served = { provider: string; model: string };

/** Work around a stream: `beforeEnd` before its last event is sent, `after` in waitUntil once it is over. */
interface StreamHooks {
  beforeEnd?: (outcome: RelayOutcome, served: Served) => Promise<void>;
  after?: () => Promise<void>;
}

/**
 * A streamed call: the reservation and the call up to the first upstream bytes happen before the
 * response (so a failure there is an ordinary error response, and a backup may still serve); then the
 * events are relayed as they arrive, and the settle (and `after`) run in waitUntil once it is over.
 */
async function streamed(
  c: Context<AppEnv>,
  plan: ProxyPlan,
  status: CacheStatus,
  { beforeEnd, after = async () => undefined }: StreamHooks = {},
): Promise<Response> {
  const stream = plan.stream as NonNullable<ProxyPlan['stream']>;
  const routed = routerOf(c, plan);
  const { policy } = routed;
  // The call is recorded once the stream has ended, with the usage its last events carried.
  let observed: ObservedCall | undefined;
  const deps = {
    ...routed.deps,
    observe: (call: ObservedCall) => {
      observed = call;
    },
  };
  const env = c.get('env');
  let opened: (response: Response) => void = () => undefined;
  const ready = new Promise<Response>((resolve) => {
    opened = resolve;
  });
  const done = budgeted(
    c,
    plan,
    async ({ keepAlive }, billing) => {
      const served = await callProviders(
        billing ? { ...deps, billing } : deps,
        plan.capability,
        policy,
        (target, model) => openStream(target, plan.path, plan.upstream, model),
        { primaryModel: plan.model },
      );
      const relay = relaySse(served.value.reader, served.value.first, {
        ...stream,
        idleTimeoutMs: env.OPENAI_TIMEOUT_SECONDS * 1000,
        drainMs: env.PROXY_DRAIN_SECONDS * 1000,
        recordLimit: env.PROXY_CACHE_MAX_BYTES,
        errorEvent: (error) => errorEvent(stream.api, error, c.get('requestId')),
        ...(beforeEnd
          ? { beforeEnd: (outcome) => beforeEnd(outcome, { provider: served.provider, model: served.model }) }
          : {}),
      });
      opened(c.body(relay.body, 200, { ...SSE_TYPE, 'x-cache': status, ...servedHeaders(served) }));
      // The reservation's lease covers the call up to its first bytes; a long answer streams on for
      // longer (32k tokens at tens a second), and its headroom must not be handed to other calls nor
      // charged by a sweep meanwhile. So the lease is renewed, on a timer off the per-event path, until
      // the stream is over: `outcome` settles however it ends (completed, cancelled by the client,
      // failed upstream or idle), and the spender stops renewing once this work settles too.
      const stop = keepAlive();
      try {
        return { outcome: await relay.outcome, provider: served.provider, model: served.model };
      } finally {
        stop();
      }
    },
    (result) => ({ model: result.model, usage: result.outcome.usage }),
  );
  c.executionCtx.waitUntil(done.then(after, after).catch(() => undefined));
  c.get('metrics')?.hold(
    done
      .then(({ outcome }) => {
        if (observed && outcome.usage) observed = { ...observed, usage: outcome.usage };
      })
      .finally(() => {
        if (observed) routed.deps.observe?.(observed);
      })
      .catch(() => undefined),
  );
  // Whichever comes first: the stream opened, or the call failed before its first byte.
  return Promise.race([ready, done.then(() => ready)]);
}
