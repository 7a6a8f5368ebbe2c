/**
 * The route layer's view of a request's capabilities: `servicesOf(c)` builds them once from the
 * request (lib/services.ts) and the helpers here reach them from Hono's Context, with admission and
 * the cache-first path that join the two. Being retired (#17): callers move to the services.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app';
import type { Breaker } from './breaker';
import type { Budget } from './budget';
import { type Cache, type CacheKeyParts, type CacheLookup, cacheKey, cacheNamespace } from './cache';
import type { Capability, Task } from './capabilities';
import { type AdmitOptions, admit, presentedTenant } from './guards';
import type { ModerationDeps } from './moderation';
import { type Providers, type StructuredTask, servedHeaders } from './providers';
import type { AttemptBilling } from './providers/router-deps';
import { createServices, type Services, type SpendOptions } from './services';
import type { Spender } from './spend';
import { candidateModels as candidateModelsOf, planTask as planTaskOf } from './task-plan';
import { chooseVariant, type Variant, type VariantOutcome, type VariantTask } from './variants';

export { billingFor, type MaybeDegraded, type ServedBy } from './generation';
export { longestGenerationMs } from './providers/timeouts';
export type { SpendOptions } from './services';
export type { TaskPlan } from './task-plan';

import type { MaybeDegraded, ServedBy } from './generation';

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

/** How long a result made on a degraded model is reused: full quality returns soon after the budget allows. */
export const DEGRADED_CACHE_TTL_SECONDS = 3600;

/**
 * The cache-first path every generating endpoint takes: the caller's cache key, admission and the
 * cache lookup in one round trip, then single-flight `produce` on a miss. Returns the value and the
 * response headers (`x-cache`, and who served it when this request generated). The route must be one
 * marked `admitsInHandler`. `uses`: the capabilities `produce` calls, which size the lease.
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

/** The models that may serve `capability` for this request (see lib/task-plan.ts). */
export const candidateModels = (
  c: Context<AppEnv>,
  capability: Capability,
  primaryModel?: string,
): string[] => candidateModelsOf(c.get('deps').providers, capability, primaryModel);

/** A structured task's plan for this request (see lib/task-plan.ts). */
export const planTask = <T>(c: Context<AppEnv>, policyTask: Task, task: StructuredTask<T>, extraNanos = 0) =>
  planTaskOf<T>(c.get('env'), c.get('deps').providers, policyTask, task, extraNanos);

/** The prompt variant for this request of `task` (sticky per cache fields; `x-gateway-variant` forces one). */
export function variantFor(c: Context<AppEnv>, task: VariantTask, fields: unknown): Variant | undefined {
  const variant = chooseVariant(c.get('env'), task, fields, c.req.header('x-gateway-variant'));
  if (variant) c.get('metrics')?.variant(variant.name);
  return variant;
}

/** Counts a variant's generation after the response, on the budget day it happened. */
export const recordVariantFor = (c: Context<AppEnv>, variant: Variant | undefined, outcome: VariantOutcome) =>
  servicesOf(c).recordVariant(variant, outcome);
