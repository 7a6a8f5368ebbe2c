/**
 * The capabilities one request uses, built once for it from plain data (its env, clients, log, metrics
 * and caller), never from Hono's Context: the shared breakers and the gateway-wide upstream guard, the
 * provider layer over them, moderation, the budget ledger and spending (lib/spending-services.ts), the
 * response cache and the caller's units of work. Each is built on first use and then reused: a
 * creative miss builds its breaker, guard and moderation once, where it used to build them once per
 * call site. Everything below the route and admission layer can run on a scope a test writes by hand.
 */
import { type Breaker, createBreaker } from './breaker';
import { type Budget, type BudgetScope, dayClockOf } from './budget';
import type { DescribeScope } from './budget/refusal';
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
import type { Nanos, PriceTable } from './pricing';
import type { Principal } from './principal';
import { createProviders, type Providers, type StructuredTask } from './providers';
import { askEarly } from './providers/first-attempt';
import type { RetryPolicy } from './providers/retry';
import type { AttemptBilling, EarlyPermit, RouterDeps } from './providers/router-deps';
import { upstreamGuard } from './providers/upstream-guard';
import type { RequestScope } from './request-scope';
import type { Spender } from './spend';
import { type SpendingServices, type SpendOptions, spendingServices } from './spending-services';
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
  return new RequestServices(scope);
}

// A class, its parts built on first use: every request builds one, and a cache hit reads two methods.
// An object literal of closures and getters was a twentieth of a hit's allocations.
class RequestServices implements Services {
  readonly env: Env;
  readonly deps: Deps;
  readonly log: Logger;
  readonly requestId: string;
  readonly metrics: MetricsCollector | undefined;
  readonly defer: (work: Promise<unknown>) => void;
  readonly principal: () => Principal;
  readonly #scope: RequestScope;
  #breaker: Breaker | undefined;
  #guard: ReturnType<typeof upstreamGuard> | undefined;
  #moderation: ModerationDeps | undefined;
  #images: ImageBucket | undefined;
  #spending: SpendingServices | undefined;

  constructor(scope: RequestScope) {
    this.#scope = scope;
    this.env = scope.env;
    this.deps = scope.deps;
    this.log = scope.log;
    this.requestId = scope.requestId;
    this.metrics = scope.metrics;
    this.defer = scope.defer;
    this.principal = scope.principal;
  }

  get images(): ImageBucket {
    this.#images ??= pooledBucket(this.#scope.images, (work) => this.deps.connections.run(work));
    return this.#images;
  }
  get origin(): string {
    return this.#scope.origin;
  }
  get breaker(): Breaker {
    this.#breaker ??= createBreaker(
      { redis: this.deps.redis, now: this.deps.now, log: this.log },
      configOf(this.env).breaker,
    );
    return this.#breaker;
  }
  get prices(): PriceTable {
    return configOf(this.env).prices;
  }
  get moderation(): ModerationDeps {
    this.#moderation ??= {
      providers: this.providers(),
      rules: configOf(this.env).moderation,
      failClosed: this.env.MODERATION_FAIL_CLOSED,
      log: this.log,
      onVerdict: (verdict) => this.metrics?.moderation(verdict),
    };
    return this.#moderation;
  }

  router(billing?: AttemptBilling, early?: EarlyPermit): { deps: RouterDeps; policy: RetryPolicy } {
    const { deps, env, log } = this;
    this.#guard ??= upstreamGuard(this.#scope);
    return {
      deps: {
        providers: deps.providers(),
        breaker: this.breaker,
        sleep: deps.sleep,
        random: deps.random,
        defer: this.defer,
        log,
        admit: this.#guard,
        now: deps.now,
        observe: (call) => this.metrics?.upstream(call),
        logPrompts: env.LOG_PROMPTS,
        requestId: this.requestId,
        ...(billing ? { billing } : {}),
        ...(early ? { early } : {}),
      },
      policy: configOf(env).retry,
    };
  }
  providers(billing?: AttemptBilling, early?: EarlyPermit): Providers {
    const { deps: routed, policy } = this.router(billing, early);
    return createProviders(routed, policy);
  }
  early(capability: Capability, model?: string): EarlyPermit {
    return askEarly(this.router().deps, capability, model);
  }
  cache(uses: readonly Capability[] = TEXT): Cache {
    const { deps, log } = this;
    return createCache(
      { redis: deps.redis, now: deps.now, sleep: deps.sleep, newId: deps.newId, log },
      singleFlightOptions(this.env, uses),
    );
  }
  plan<T>(policyTask: Task, task: StructuredTask<T>, extraNanos?: Nanos): Promise<TaskPlan<T>> {
    return planTask(this.env, this.deps.providers(), policyTask, task, extraNanos);
  }
  variant(task: VariantTask, fields: unknown): Variant | undefined {
    const variant = chooseVariant(this.env, task, fields, this.#scope.forcedVariant);
    if (variant) this.metrics?.variant(variant.name);
    return variant;
  }
  recordVariant(variant: Variant | undefined, outcome: VariantOutcome): void {
    if (!variant) return;
    const { day } = dayClockOf(this.env.BUDGET_TIMEZONE).at(this.deps.now());
    this.defer(recordVariant(this.deps.redis, day, variant, outcome));
  }

  // Spending (lib/spending-services.ts), built when the request first spends.
  get #spend(): SpendingServices {
    this.#spending ??= spendingServices(this.#scope);
    return this.#spending;
  }
  budget(options?: SpendOptions): Budget {
    return this.#spend.budget(options);
  }
  budgetScopes(globalScope?: string): { scopes: BudgetScope[]; describe: DescribeScope } {
    return this.#spend.budgetScopes(globalScope);
  }
  spend(options?: SpendOptions): Spender {
    return this.#spend.spend(options);
  }
  units(units: number): Promise<void> {
    return this.#spend.units(units);
  }
}
