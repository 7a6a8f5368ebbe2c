/**
 * The capabilities one request uses, built once for it from plain data (its env, clients, log, metrics
 * and caller), never from Hono's Context: the shared breakers and the gateway-wide upstream guard, the
 * provider layer over them, moderation, the budget ledger and spending (lib/spending-services.ts), the
 * response cache and the caller's units of work. Each is built on first use and then reused: a
 * creative miss builds its breaker, guard and moderation once, where it used to build them once per
 * call site. Everything below the route and admission layer can run on a scope a test writes by hand.
 */
import { type Breaker, createBreaker } from './breaker';
import { dayClockOf } from './budget';
import { type Cache, createCache } from './cache';
import { singleFlightOptions } from './cache/single-flight';
import type { Capability, Task } from './capabilities';
import { configOf } from './config';
import { type ImageBucket, pooledBucket } from './image-store';
import type { ModerationDeps } from './moderation';
import type { Nanos, PriceTable } from './pricing';
import { createProviders, type Providers, type StructuredTask } from './providers';
import { askEarly } from './providers/first-attempt';
import type { RetryPolicy } from './providers/retry';
import type { AttemptBilling, EarlyPermit, RouterDeps } from './providers/router-deps';
import { upstreamGuard } from './providers/upstream-guard';
import type { RequestScope } from './request-scope';
import { type SpendingServices, spendingServices } from './spending-services';
import { planTask, type TaskPlan } from './task-plan';
import {
  chooseVariant,
  recordVariant,
  type Variant,
  type VariantOutcome,
  type VariantTask,
} from './variants';

/** The request's own data, as its scope gave it. */
type ScopeData = Pick<RequestScope, 'env' | 'deps' | 'log' | 'requestId' | 'metrics' | 'defer' | 'principal'>;

export interface Services extends SpendingServices, ScopeData {
  /** The images bucket, its calls through this invocation's connection pool; and the public origin. */
  images: ImageBucket;
  origin: string;
  breaker: Breaker;
  /**
   * The router's dependencies and the retry policy; `billing` pays for attempts billed unanswered,
   * `early` is a first attempt's permit already asked for.
   */
  router(billing?: AttemptBilling, early?: EarlyPermit): { deps: RouterDeps; policy: RetryPolicy };
  providers(billing?: AttemptBilling, early?: EarlyPermit): Providers;
  /** Asks now for the first attempt's permit and guard of a `capability` call (first-attempt.ts). */
  early(capability: Capability, model?: string): EarlyPermit;
  moderation: ModerationDeps;
  /** The response cache with single-flight, its lease sized for what the producer `uses`. */
  cache(uses?: readonly Capability[]): Cache;
  prices: PriceTable;
  /** A structured task's plan under its model policy, over this request's providers (lib/task-plan.ts). */
  plan<T>(policyTask: Task, task: StructuredTask<T>, extraNanos?: Nanos): Promise<TaskPlan<T>>;
  /** The prompt variant this request of `task` meets (sticky per cache `fields`), counted in its metrics. */
  variant(task: VariantTask, fields: unknown): Variant | undefined;
  /** Counts a prompt variant's generation after the response, on the budget day it happened. */
  recordVariant(variant: Variant | undefined, outcome: VariantOutcome): void;
}

const TEXT: readonly Capability[] = ['text'];

export function createServices(scope: RequestScope): Services {
  const { env, deps, log } = scope;
  const once = <T>(build: () => T) => {
    let built: T | undefined;
    return () => (built ??= build());
  };
  const breaker = once(() => createBreaker({ redis: deps.redis, now: deps.now, log }, configOf(env).breaker));
  const guard = once(() => upstreamGuard(scope));
  const router = (billing?: AttemptBilling, early?: EarlyPermit) => ({
    deps: {
      providers: deps.providers,
      breaker: breaker(),
      sleep: deps.sleep,
      random: deps.random,
      defer: scope.defer,
      log,
      admit: guard(),
      now: deps.now,
      observe: (call: Parameters<NonNullable<RouterDeps['observe']>>[0]) => scope.metrics?.upstream(call),
      logPrompts: env.LOG_PROMPTS,
      requestId: scope.requestId,
      ...(billing ? { billing } : {}),
      ...(early ? { early } : {}),
    },
    policy: configOf(env).retry,
  });
  const providers = (billing?: AttemptBilling, early?: EarlyPermit) => {
    const { deps: routed, policy } = router(billing, early);
    return createProviders(routed, policy);
  };
  const moderation = once(
    (): ModerationDeps => ({
      providers: providers(),
      rules: configOf(env).moderation,
      failClosed: env.MODERATION_FAIL_CLOSED,
      log,
      onVerdict: (verdict) => scope.metrics?.moderation(verdict),
    }),
  );
  const spending = spendingServices(scope);
  const images = once(() => pooledBucket(scope.images, (work) => deps.connections.run(work)));
  const cache = (uses: readonly Capability[] = TEXT) =>
    createCache(
      { redis: deps.redis, now: deps.now, sleep: deps.sleep, newId: deps.newId, log },
      singleFlightOptions(env, uses),
    );
  return {
    env,
    deps,
    log,
    requestId: scope.requestId,
    metrics: scope.metrics,
    defer: scope.defer,
    principal: scope.principal,
    // Both on first use: a cache hit needs neither (a URL parse, a wrapper).
    get images() {
      return images();
    },
    get origin() {
      return scope.origin;
    },
    get breaker() {
      return breaker();
    },
    router,
    providers,
    early: (capability, model) => askEarly(router().deps, capability, model),
    get moderation() {
      return moderation();
    },
    ...spending,
    cache,
    prices: configOf(env).prices,
    plan: (policyTask, task, extraNanos) => planTask(env, deps.providers, policyTask, task, extraNanos),
    variant: (task, fields) => {
      const variant = chooseVariant(env, task, fields, scope.forcedVariant);
      if (variant) scope.metrics?.variant(variant.name);
      return variant;
    },
    recordVariant: (variant, outcome) => {
      if (!variant) return;
      const { day } = dayClockOf(env.BUDGET_TIMEZONE).at(deps.now());
      scope.defer(recordVariant(deps.redis, day, variant, outcome));
    },
  };
}
