/**
 * The capabilities one request uses, built once for it from plain data (its env, clients, log, metrics
 * and caller), never from Hono's Context: the shared breakers and the gateway-wide upstream guard, the
 * provider layer over them, moderation, the budget ledger and spending, the response cache and the
 * caller's units of work. Each is built on first use and then reused: a creative miss builds its
 * breaker, guard and moderation once, where it used to build them once per call site. Everything
 * below the route and admission layer can run on a scope a test writes by hand.
 */
import { ALERT_TIMEOUT_MS, sendBudgetAlert } from './alerts';
import { type Breaker, createBreaker } from './breaker';
import { type Budget, type BudgetScope, createBudget, createDayClock } from './budget';
import type { DescribeScope } from './budget/refusal';
import { budgetScopesOf } from './budget/scopes';
import { type Cache, createCache } from './cache';
import { singleFlightOptions } from './cache/single-flight';
import type { Capability, Task } from './capabilities';
import { configOf } from './config';
import type { Deps } from './deps';
import type { Env } from './env';
import { type ImageBucket, pooledBucket } from './image-store';
import type { Logger } from './log';
import type { MetricsCollector } from './metrics/collector';
import type { ModerationDeps } from './moderation';
import { type Nanos, type PriceTable, usdToNanos } from './pricing';
import type { Principal } from './principal';
import { createProviders, type Providers, type StructuredTask } from './providers';
import type { RetryPolicy } from './providers/retry';
import type { AttemptBilling, RouterDeps } from './providers/router-deps';
import { longestGenerationMs } from './providers/timeouts';
import { upstreamGuard } from './providers/upstream-guard';
import { createSpender, type Spender } from './spend';
import { planTask, type TaskPlan } from './task-plan';
import { takeUnits } from './unit-limit';
import { recordVariant, type Variant, type VariantOutcome } from './variants';

/** What a request's services are built from. */
export interface RequestScope {
  env: Env;
  deps: Deps;
  log: Logger;
  requestId: string;
  metrics: MetricsCollector | undefined;
  /** Work after the response (`ctx.waitUntil`). */
  defer: (work: Promise<unknown>) => void;
  /** Who the request acts for, once admission has said. */
  principal: () => Principal;
  /** Sets a response header (the units left, say). */
  header: (name: string, value: string) => void;
  /** The R2 bucket of generated images, and the origin their public URLs start with. */
  images: ImageBucket;
  origin: string;
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

export interface Services {
  env: Env;
  /** The images bucket, its calls through this invocation's connection pool; and the public origin. */
  images: ImageBucket;
  origin: string;
  breaker: Breaker;
  /** The router's dependencies and the retry policy; `billing` pays for attempts billed unanswered. */
  router(billing?: AttemptBilling): { deps: RouterDeps; policy: RetryPolicy };
  providers(billing?: AttemptBilling): Providers;
  moderation: ModerationDeps;
  budget(options?: SpendOptions): Budget;
  /** The budgets the caller's spending must fit in (the gateway's, then the key's) and how to name them. */
  budgetScopes(globalScope?: string): { scopes: BudgetScope[]; describe: DescribeScope };
  spend(options?: SpendOptions): Spender;
  /** The response cache with single-flight, its lease sized for what the producer `uses`. */
  cache(uses?: readonly Capability[]): Cache;
  /** Takes `units` from the caller's units per minute; sets `x-ratelimit-*-units`. */
  units(units: number): Promise<void>;
  prices: PriceTable;
  /** A structured task's plan under its model policy, over this request's providers (lib/task-plan.ts). */
  plan<T>(policyTask: Task, task: StructuredTask<T>, extraNanos?: Nanos): Promise<TaskPlan<T>>;
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
  const router = (billing?: AttemptBilling) => ({
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
    },
    policy: configOf(env).retry,
  });
  const providers = (billing?: AttemptBilling) => {
    const { deps: routed, policy } = router(billing);
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
  const budget = (options: SpendOptions = {}) =>
    createBudget(
      { redis: deps.redis, now: deps.now, newId: deps.newId },
      {
        timeZone: env.BUDGET_TIMEZONE,
        // A reservation outlives its call, then a margin; a stream renews it while it runs (lib/spend.ts).
        leaseMs: longestGenerationMs(env, options.uses) + env.BUDGET_LEASE_MARGIN_SECONDS * 1000,
        ...(options.globalScope ? { globalScope: options.globalScope } : {}),
      },
    );
  const budgetScopes = (globalScope = 'global') => budgetScopesOf(env, scope.principal(), globalScope);
  const units = async (n: number) => {
    const { redis, now } = deps;
    const timeoutMs = env.REDIS_TIMEOUT_MS;
    const taken = await takeUnits({ redis, now, timeoutMs, log, defer: scope.defer }, scope.principal(), n);
    if (!taken) return;
    scope.header('x-ratelimit-limit-units', String(taken.limit));
    scope.header('x-ratelimit-remaining-units', String(taken.remaining));
  };
  const spend = (options: SpendOptions = {}) => {
    const { scopes, describe } = budgetScopes(options.globalScope);
    const fetch = deps.connections.fetch(ALERT_TIMEOUT_MS);
    const webhook = env.ALERT_WEBHOOK_URL ? { webhookUrl: env.ALERT_WEBHOOK_URL } : {};
    return createSpender(
      {
        budget: budget(options),
        now: deps.now,
        defer: scope.defer,
        log,
        alert: (alert) => sendBudgetAlert({ log, fetch, ...webhook }, alert),
      },
      {
        scopes,
        limitNanos: usdToNanos(env.OPENAI_DAILY_BUDGET_USD),
        alertThresholdNanos: usdToNanos(env.OPENAI_ALERT_THRESHOLD_USD),
        describe,
        ...(options.units ? { gate: () => units(options.units ?? 0) } : {}),
      },
    );
  };
  const cache = (uses: readonly Capability[] = TEXT) =>
    createCache(
      { redis: deps.redis, now: deps.now, sleep: deps.sleep, newId: deps.newId, log },
      singleFlightOptions(env, uses),
    );
  return {
    env,
    images: pooledBucket(scope.images, (work) => deps.connections.run(work)),
    origin: scope.origin,
    get breaker() {
      return breaker();
    },
    router,
    providers,
    get moderation() {
      return moderation();
    },
    budget,
    budgetScopes,
    spend,
    cache,
    units,
    prices: configOf(env).prices,
    plan: (policyTask, task, extraNanos) => planTask(env, deps.providers, policyTask, task, extraNanos),
    recordVariant: (variant, outcome) => {
      if (!variant) return;
      const { day } = createDayClock(env.BUDGET_TIMEZONE).at(deps.now());
      scope.defer(recordVariant(deps.redis, day, variant, outcome));
    },
  };
}
