/**
 * The route layer's view of a request's capabilities: `servicesOf(c)` builds them once from the
 * request (lib/services.ts) and the helpers here reach them from Hono's Context, with admission and
 * the cache-first path that join the two. Being retired (#17): callers move to the services.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app';
import type { Breaker } from './breaker';
import { type Budget, createDayClock } from './budget';
import { type Cache, type CacheKeyParts, type CacheLookup, cacheKey, cacheNamespace } from './cache';
import { configOf } from './config';
import { type AttemptNanos, worstCaseStructured } from './domain/cost';
import type { Capability, Task } from './env';
import { type AdmitOptions, admit, presentedTenant } from './guards';
import { tokenUnits } from './key-policy';
import { modelsFor } from './model-policy';
import type { ModerationDeps } from './moderation';
import type { Nanos } from './pricing';
import { type Providers, type StructuredTask, servedHeaders } from './providers';
import type { AttemptBilling, StructuredCall } from './providers/router';
import { createServices, type Services, type SpendOptions } from './services';
import type { Held, Spender, TieredEstimate } from './spend';
import {
  chooseVariant,
  recordVariant,
  type Variant,
  type VariantOutcome,
  type VariantTask,
} from './variants';

export { longestGenerationMs } from './providers/timeouts';
export type { SpendOptions } from './services';

/** Each request's services, built on its first use and kept for the rest of the request. */
const built = new WeakMap<Context<AppEnv>, Services>();

/** The services of the request `c` is handling (lib/services.ts): built once, from plain data. */
export function servicesOf(c: Context<AppEnv>): Services {
  let services = built.get(c);
  if (!services) {
    services = createServices({
      env: c.get('env'),
      deps: c.get('deps'),
      log: c.get('log'),
      requestId: c.get('requestId'),
      metrics: c.get('metrics'),
      defer: (work) => c.executionCtx.waitUntil(work),
      principal: () => c.get('principal'),
      header: (name, value) => c.header(name, value),
    });
    built.set(c, services);
  }
  return services;
}

/** The shared circuit breakers, as configured. */
export const breakerFor = (c: Context<AppEnv>): Breaker => servicesOf(c).breaker;

/**
 * The providers as this request calls them; `billing` (from the reservation the calls run under) pays
 * for attempts the provider may have billed without answering, and lets such a call be tried again.
 */
export const providersFor = (c: Context<AppEnv>, billing?: AttemptBilling): Providers =>
  servicesOf(c).providers(billing);

/** What `callProviders` needs for this request and the configured retry policy (the OpenAI proxy). */
export const routerFor = (c: Context<AppEnv>, billing?: AttemptBilling) => servicesOf(c).router(billing);

/** The moderation chain as this request runs it: its providers, the configured rules, verdicts counted. */
export const moderationFor = (c: Context<AppEnv>): ModerationDeps => servicesOf(c).moderation;

/** The budget ledger in the configured time zone. */
export const budgetFor = (c: Context<AppEnv>, options: SpendOptions = {}): Budget =>
  servicesOf(c).budget(options);

/** Spending for this request's principal: the gateway budget and the key's own scope. */
export const spendFor = (c: Context<AppEnv>, options: SpendOptions = {}): Spender =>
  servicesOf(c).spend(options);

/** Takes the request's units of work from its key's limit; sets `x-ratelimit-*-units`. */
export const unitsFor = (c: Context<AppEnv>, units: number): Promise<void> => servicesOf(c).units(units);

/** The budgets the caller's spending must fit in (the gateway's, then the key's) and how to name them. */
export const budgetScopes = (c: Context<AppEnv>, globalScope = 'global') =>
  servicesOf(c).budgetScopes(globalScope);

/** The response cache with single-flight, its lease sized for what the producer `uses`. */
export const cacheFor = (c: Context<AppEnv>, uses: readonly Capability[] = TEXT): Cache =>
  servicesOf(c).cache(uses);

const TEXT: readonly Capability[] = ['text'];

/**
 * Admits the request (key, rate limit) and looks the cache up in the same Redis round trip, so a
 * cache hit costs one. A lease the lookup granted is handed back when admission then refuses.
 */
export async function admitAndLookUp<T>(
  c: Context<AppEnv>,
  cache: Cache,
  key: string,
  bypass: boolean,
  options: AdmitOptions = {},
): Promise<CacheLookup<T> | undefined> {
  return (await admitAndLookUpMany<T>(c, cache, [key], bypass, options))?.[0];
}

/** `admitAndLookUp` for several keys: every lookup joins the same round trip. */
export async function admitAndLookUpMany<T>(
  c: Context<AppEnv>,
  cache: Cache,
  keys: string[],
  bypass: boolean,
  options: AdmitOptions = {},
): Promise<CacheLookup<T>[] | undefined> {
  let looked: Promise<CacheLookup<T>[]> | undefined;
  try {
    await admit(
      c,
      async () => {
        if (!bypass) looked = Promise.all(keys.map((key) => cache.lookup<T>(key)));
      },
      options,
    );
  } catch (err) {
    if (looked) c.executionCtx.waitUntil(looked.then((all) => Promise.all(all.map((l) => cache.release(l)))));
    throw err;
  }
  return looked;
}

/** Whether the client asked to skip the cache (`cache-control: no-cache`). */
export function wantsFresh(c: Context<AppEnv>): boolean {
  return c.req.header('cache-control')?.toLowerCase().includes('no-cache') ?? false;
}

/** A cache key in the caller's namespace (or the shared one, when configured). */
export function tenantCacheKey(
  c: Context<AppEnv>,
  tenant: string,
  parts: Omit<CacheKeyParts, 'namespace'>,
): Promise<string> {
  const shared = c.get('env').CACHE_SHARED_NAMESPACE ? 'shared' : undefined;
  return cacheKey({ namespace: cacheNamespace({ keyId: tenant, shared }), ...parts });
}

/** The caller's cache-key builder: the tenant is resolved once, for requests that need many keys. */
export async function presentedTenantKey(
  c: Context<AppEnv>,
): Promise<(parts: Omit<CacheKeyParts, 'namespace'>) => Promise<string>> {
  const tenant = await presentedTenant(c);
  return (parts) => tenantCacheKey(c, tenant, parts);
}

/** Who served a generation, for the `x-gateway-*` headers. */
export type ServedBy = { provider: string; model: string };

/** How long a result made on a degraded model is reused: full quality returns soon after the budget allows. */
export const DEGRADED_CACHE_TTL_SECONDS = 3600;

/** Marks a result made on the cheaper model because the day's spend passed the alert threshold. */
export type MaybeDegraded = { degraded?: true };

/**
 * The cache-first path every generating endpoint takes: the caller's cache key, admission and the
 * cache lookup in one round trip, then single-flight `produce` on a miss. Returns the value and the
 * response headers (`x-cache`, and who served it when this request generated). The route must be one
 * that admits itself (see `protect`). `uses`: the capabilities `produce` calls, which size the lease.
 */
export async function cacheFirst<T extends MaybeDegraded>(
  c: Context<AppEnv>,
  parts: Omit<CacheKeyParts, 'namespace'>,
  /** `cacheable: false`: served to this request only (say, checked by the local moderation layers alone). */
  produce: () => Promise<{ value: T; served: ServedBy; cacheable?: boolean }>,
  uses: readonly Capability[] = TEXT,
): Promise<{ value: T; status: string; headers: Record<string, string> }> {
  const key = await tenantCacheKey(c, await presentedTenant(c), parts);
  const cache = cacheFor(c, uses);
  const bypass = wantsFresh(c);
  const first = await admitAndLookUp<T>(c, cache, key, bypass);
  let served: ServedBy | null = null;
  const result = await cache.getOrProduce<T>(
    key,
    async () => {
      const made = await produce();
      served = made.served;
      const ttl = made.value.degraded ? { ttlSeconds: DEGRADED_CACHE_TTL_SECONDS } : {};
      return { value: made.value, cacheable: made.cacheable ?? true, ...ttl };
    },
    { bypass, ...(first ? { first } : {}) },
  );
  const headers = {
    'x-cache': result.status,
    ...(served ? servedHeaders(served) : {}),
    ...(result.value.degraded ? { 'x-gateway-degraded': 'spend-threshold' } : {}),
  };
  return { value: result.value, status: result.status, headers };
}

/**
 * The models that may serve `capability`: the primary's (`primaryModel` when the task's policy names
 * one) and every backup's that offers it.
 */
export function candidateModels(c: Context<AppEnv>, capability: Capability, primaryModel?: string): string[] {
  return c
    .get('deps')
    .providers.flatMap((p, i) =>
      i === 0 && primaryModel ? [primaryModel] : p.models[capability] ? [p.models[capability]] : [],
    );
}

/** A structured task's plan under its model policy: what to reserve, and the task for the tier granted. */
export interface TaskPlan<T> {
  /** Worst cases, tiered when the task may degrade; `extraNanos` (e.g. an image) added to each. */
  estimate: Nanos | TieredEstimate;
  /** Each text call's worst case: the room another attempt after a billed one needs, and its charge. */
  attemptNanos: AttemptNanos;
  /** The task on the tier's model. */
  taskFor(tier: { degraded: boolean }): StructuredTask<T>;
  /** Units of work its text call counts (lib/unit-limit.ts): a thousand tokens as reserved each. */
  units: number;
}

export async function planTask<T>(
  c: Context<AppEnv>,
  policyTask: Task,
  task: StructuredTask<T>,
  extraNanos = 0,
): Promise<TaskPlan<T>> {
  const { prices } = configOf(c.get('env'));
  const models = modelsFor(c.get('env'), policyTask);
  const capability = task.capability ?? 'text';
  const planned = { ...task, reasoningEffort: models.reasoningEffort };
  const worst = (model: string) =>
    worstCaseStructured(prices, candidateModels(c, capability, model), planned);
  const full = await worst(models.model);
  const { degradeTo } = models;
  const degraded = degradeTo ? await worst(degradeTo) : undefined;
  return {
    estimate: degraded
      ? { full: full.total + extraNanos, degraded: degraded.total + extraNanos }
      : full.total + extraNanos,
    attemptNanos: {
      first: Math.max(full.attempt.first, degraded?.attempt.first ?? 0),
      second: Math.max(full.attempt.second, degraded?.attempt.second ?? 0),
    },
    taskFor: ({ degraded }) => ({ ...planned, model: degraded && degradeTo ? degradeTo : models.model }),
    units: tokenUnits(Math.max(full.tokens, degraded?.tokens ?? 0)),
  };
}

/** The prompt variant for this request of `task` (sticky per cache fields; `x-gateway-variant` forces one). */
export function variantFor(c: Context<AppEnv>, task: VariantTask, fields: unknown): Variant | undefined {
  const variant = chooseVariant(c.get('env'), task, fields, c.req.header('x-gateway-variant'));
  if (variant) c.get('metrics')?.variant(variant.name);
  return variant;
}

/** Counts a variant's generation after the response, on the budget day it happened. */
export function recordVariantFor(
  c: Context<AppEnv>,
  variant: Variant | undefined,
  outcome: VariantOutcome,
): void {
  if (!variant) return;
  const { redis, now } = c.get('deps');
  const { day } = createDayClock(c.get('env').BUDGET_TIMEZONE).at(now());
  c.executionCtx.waitUntil(recordVariant(redis, day, variant, outcome));
}

/**
 * Attempt billing on `held`: another attempt of a `capability` call reserves, and an abandoned one is
 * charged, `worst(capability, call)`, the worst case of one such call (a structured task's `first` call
 * or the `second` it may get).
 */
export function billingFor(
  held: Held,
  worst: (capability: Capability, call: StructuredCall) => Nanos,
  call: StructuredCall = 'first',
): AttemptBilling {
  return {
    retry: (capability) => held.rebill(worst(capability, call)),
    abandoned: (capability) => held.charge(worst(capability, call)),
    forCall: (next) => billingFor(held, worst, next),
  };
}
