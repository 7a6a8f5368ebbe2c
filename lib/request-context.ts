/**
 * The capabilities as one request uses them, built from the request's env and principal: the
 * provider layer (shared breakers, the gateway-wide upstream rate limit) and spending through the
 * budget; bookkeeping goes to `waitUntil`.
 */
import { Ratelimit } from '@upstash/ratelimit';
import type { Context } from 'hono';
import { ALERT_TIMEOUT_MS, sendBudgetAlert } from './alerts';
import type { AppEnv } from './app';
import { type Breaker, createBreaker } from './breaker';
import { type Budget, type BudgetScope, createBudget, createDayClock } from './budget';
import {
  type Cache,
  type CacheKeyParts,
  type CacheLookup,
  cacheKey,
  cacheNamespace,
  createCache,
} from './cache';
import { configOf } from './config';
import { type AttemptNanos, worstCaseStructured } from './domain/cost';
import type { Capability, Env, Task } from './env';
import { type AdmitOptions, admit, presentedTenant } from './guards';
import { tokenUnits } from './key-policy';
import { hashKey } from './keys';
import { modelsFor } from './model-policy';
import type { ModerationDeps } from './moderation';
import { type Nanos, usdToNanos } from './pricing';
import { createProviders, type Providers, type StructuredTask, servedHeaders } from './providers';
import type { RetryPolicy } from './providers/retry';
import type { AttemptBilling, RouterDeps, StructuredCall } from './providers/router';
import type { ProviderTarget } from './providers/targets';
import { timeoutsOf } from './providers/timeouts';
import { createSpender, type DescribeScope, type Held, type Spender, type TieredEstimate } from './spend';
import { redisKey } from './store';
import { takeUnits } from './unit-limit';
import {
  chooseVariant,
  recordVariant,
  type Variant,
  type VariantOutcome,
  type VariantTask,
} from './variants';

/**
 * OPENAI_RATE_LIMIT_RPM for the whole gateway, so all isolates together stay inside the OpenAI
 * account's limit. Applies to the primary only (backups have their own accounts); fails open.
 */
function upstreamGuard(c: Context<AppEnv>): (target: ProviderTarget) => Promise<number | undefined> {
  const { redis, ratelimitCache, accountDigests, now } = c.get('deps');
  const limiter = new Ratelimit({
    redis,
    limiter: Ratelimit.slidingWindow(c.get('env').OPENAI_RATE_LIMIT_RPM, '60 s'),
    prefix: redisKey('rl', 'upstream'),
    ephemeralCache: ratelimitCache,
    timeout: c.get('env').REDIS_TIMEOUT_MS,
    enableTelemetry: false,
  });
  return async (target) => {
    if (target.name !== 'openai') return undefined;
    try {
      // Keyed by the account (a digest of its API key): the limit belongs to the OpenAI account. The
      // digest is remembered, so later calls issue their command at once and share the breaker's trip.
      const apiKey = target.client.apiKey ?? '';
      const account = accountDigests.get(apiKey) ?? (await hashKey(apiKey));
      accountDigests.set(apiKey, account);
      const result = await limiter.limit(`openai:${account}`);
      c.executionCtx.waitUntil(result.pending);
      return result.success ? undefined : Math.max(1000, result.reset - now());
    } catch (err) {
      c.get('log').warn('upstream rate limit unavailable; call allowed', { cause: err });
      return undefined;
    }
  };
}

/** The shared circuit breakers, as configured. */
export function breakerFor(c: Context<AppEnv>): Breaker {
  const { redis, now } = c.get('deps');
  return createBreaker({ redis, now, log: c.get('log') }, configOf(c.get('env')).breaker);
}

/** The provider layer for this request: its settings from env, its bookkeeping in waitUntil. */
/**
 * The providers as this request calls them; `billing` (from the reservation the calls run under) pays
 * for attempts the provider may have billed without answering, and lets such a call be tried again.
 */
export function providersFor(c: Context<AppEnv>, billing?: AttemptBilling): Providers {
  const { deps, policy } = routerFor(c, billing);
  return createProviders(deps, policy);
}

/**
 * What `callProviders` needs for this request (shared breakers, the upstream guard, metrics) and the
 * configured retry policy; for callers that make their own provider calls (the OpenAI proxy).
 */
export function routerFor(
  c: Context<AppEnv>,
  billing?: AttemptBilling,
): { deps: RouterDeps; policy: RetryPolicy } {
  const env = c.get('env');
  const deps = c.get('deps');
  return {
    deps: {
      providers: deps.providers,
      breaker: breakerFor(c),
      sleep: deps.sleep,
      random: deps.random,
      defer: (work) => c.executionCtx.waitUntil(work),
      log: c.get('log'),
      admit: upstreamGuard(c),
      now: deps.now,
      observe: (call) => c.get('metrics')?.upstream(call),
      logPrompts: env.LOG_PROMPTS,
      requestId: c.get('requestId'),
      ...(billing ? { billing } : {}),
    },
    policy: configOf(env).retry,
  };
}

/** The moderation chain as this request runs it: its providers, the configured rules, verdicts counted. */
export function moderationFor(c: Context<AppEnv>): ModerationDeps {
  const env = c.get('env');
  return {
    providers: providersFor(c),
    rules: configOf(env).moderation,
    failClosed: env.MODERATION_FAIL_CLOSED,
    log: c.get('log'),
    onVerdict: (verdict) => c.get('metrics')?.moderation(verdict),
  };
}

/** Which ledger a request spends through, and what its calls may use (their timeouts size the lease). */
export interface SpendOptions {
  /** Tests keep their own gateway-wide ledger. @default 'global' */
  globalScope?: string;
  /** The capabilities the request's generation calls. @default ['text'] */
  uses?: readonly Capability[];
  /** Units of work the request starts (lib/unit-limit.ts), taken from the key's per-minute units. */
  units?: number;
}

/** The budget ledger in the configured time zone. */
export function budgetFor(c: Context<AppEnv>, options: SpendOptions = {}): Budget {
  const { redis, now, newId } = c.get('deps');
  const env = c.get('env');
  return createBudget(
    { redis, now, newId },
    {
      timeZone: env.BUDGET_TIMEZONE,
      // A reservation outlives its call, then a margin; a stream renews it while it runs (lib/spend.ts).
      leaseMs: longestGenerationMs(env, options.uses) + env.BUDGET_LEASE_MARGIN_SECONDS * 1000,
      ...(options.globalScope ? { globalScope: options.globalScope } : {}),
    },
  );
}

/** The admin key has no budget of its own: its scope only counts (totals), it never refuses. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * Spending for this request's principal: the gateway budget and the key's own scope (its daily
 * budget if it has one). `globalScope` lets tests keep their own gateway-wide ledger.
 */
export function spendFor(c: Context<AppEnv>, options: SpendOptions = {}): Spender {
  const env = c.get('env');
  const log = c.get('log');
  const { scopes, describe } = budgetScopes(c, options.globalScope);
  return createSpender(
    {
      budget: budgetFor(c, options),
      now: c.get('deps').now,
      defer: (work) => c.executionCtx.waitUntil(work),
      log,
      alert: (alert) =>
        sendBudgetAlert(
          {
            log,
            fetch: c.get('deps').connections.fetch(ALERT_TIMEOUT_MS),
            ...(env.ALERT_WEBHOOK_URL ? { webhookUrl: env.ALERT_WEBHOOK_URL } : {}),
          },
          alert,
        ),
    },
    {
      scopes,
      limitNanos: usdToNanos(env.OPENAI_DAILY_BUDGET_USD),
      alertThresholdNanos: usdToNanos(env.OPENAI_ALERT_THRESHOLD_USD),
      describe,
      ...(options.units ? { gate: () => unitsFor(c, options.units ?? 0) } : {}),
    },
  );
}

/** Takes the request's units of work from its key's limit; sets `x-ratelimit-*-units`. */
export async function unitsFor(c: Context<AppEnv>, units: number): Promise<void> {
  const { redis, now } = c.get('deps');
  const taken = await takeUnits(
    {
      redis,
      now,
      timeoutMs: c.get('env').REDIS_TIMEOUT_MS,
      log: c.get('log'),
      defer: (work) => c.executionCtx.waitUntil(work),
    },
    c.get('principal'),
    units,
  );
  if (!taken) return;
  c.header('x-ratelimit-limit-units', String(taken.limit));
  c.header('x-ratelimit-remaining-units', String(taken.remaining));
}

/** The budgets the caller's spending must fit in (the gateway's, then the key's) and how to name them. */
export function budgetScopes(
  c: Context<AppEnv>,
  globalScope = 'global',
): { scopes: BudgetScope[]; describe: DescribeScope } {
  const env = c.get('env');
  const principal = c.get('principal');
  return {
    scopes: [
      { scope: globalScope, limit: usdToNanos(env.OPENAI_DAILY_BUDGET_USD) },
      {
        scope: `key:${principal.id}`,
        limit: principal.dailyBudgetUsd === null ? UNLIMITED : usdToNanos(principal.dailyBudgetUsd),
      },
    ],
    describe: (scope) =>
      scope === globalScope
        ? { name: 'the gateway', shown: principal.kind === 'admin' }
        : { name: `key ${principal.id}`, shown: true },
  };
}

/**
 * The response cache with single-flight. Its writes are awaited before the response: a client's next
 * identical request must find the entry (a HIT), not the lease of a request already answered. A leader
 * renews its lease while it generates; waiters wait as long as the slowest generation may take.
 */
export function cacheFor(c: Context<AppEnv>, uses: readonly Capability[] = TEXT): Cache {
  const { redis, now, sleep, newId } = c.get('deps');
  const env = c.get('env');
  const longest = longestGenerationMs(env, uses);
  const leaseMs = Math.min(env.CACHE_LEASE_MS, longest);
  return createCache(
    { redis, now, sleep, newId, log: c.get('log') },
    {
      ttlSeconds: env.CACHE_TTL_SECONDS,
      leaseMs,
      pollMs: env.CACHE_POLL_MS,
      waitMs: Math.max(longest, leaseMs + env.CACHE_POLL_MS) + SINGLE_FLIGHT_WAIT_MARGIN_MS,
    },
  );
}

/** Time a waiter allows beyond the slowest generation, for the leader's own writes. */
const SINGLE_FLIGHT_WAIT_MARGIN_MS = 5_000;

const TEXT: readonly Capability[] = ['text'];

/**
 * The longest one generation may take: every attempt and backoff of each capability it calls in
 * turn, at that capability's timeout, doubled for a structured output's repair and the moderations.
 */
export function longestGenerationMs(env: Env, uses: readonly Capability[] = TEXT): number {
  const timeouts = timeoutsOf(env);
  const attempts = env.OPENAI_MAX_RETRIES + 1;
  const calls = uses.reduce(
    (sum, capability) => sum + timeouts[capability] + env.OPENAI_RETRY_MAX_DELAY_MS,
    0,
  );
  return calls * attempts * 2;
}

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
