/**
 * The one generation pipeline every generating task runs (opportunities, image analysis, creatives
 * one at a time or together): plan the models → reserve the worst case (and the units of work) →
 * call → validate (one repair) → `finish` (moderation, images) → settle what was billed → record the
 * prompt variant's outcome. Every bill lands in a cost ledger as it is incurred, so a refusal still
 * settles exactly what was spent. Endpoints add caching around it.
 */

import type { Held } from './budget/held';
import type { Capability, Task } from './capabilities';
import { actualCost } from './domain/cost';
import { CreativeRejectedError, InvalidModelOutputError } from './errors';
import type { Nanos, PriceTable } from './pricing';
import type { StructuredTask, Usage } from './providers';
import type { AttemptBilling, StructuredCall } from './providers/router-deps';
import type { Services } from './services';
import type { Variant } from './variants';

/** What the pipeline uses of a request's services (lib/services.ts); a test can hand it its own. */
export type GenerationServices = Pick<
  Services,
  'prices' | 'plan' | 'spend' | 'providers' | 'early' | 'recordVariant' | 'metrics'
>;

/** Who served a generation, for the `x-gateway-*` headers. */
export type ServedBy = { provider: string; model: string };

/** Marks a result made on the cheaper model because the day's spend passed the alert threshold. */
export type MaybeDegraded = { degraded?: true };

/** How long a result made on a degraded model is reused: full quality returns soon after the budget allows. */
export const DEGRADED_CACHE_TTL_SECONDS = 3600;

/** What a generation has cost so far: each bill as it lands. */
export interface CostLedger {
  /** A call's usage, priced with the model that served it. */
  usage(model: string, usage: Usage): void;
  add(nanos: Nanos): void;
  readonly total: Nanos;
}

export function costLedger(prices: PriceTable): CostLedger {
  return new RunningCost(prices);
}

// A class: an object literal's getter is a new closure on every generation, which V8 keeps, with all it
// reaches, past young-generation collections until a full one (scripts/lint/literal-accessor.grit).
class RunningCost implements CostLedger {
  readonly #prices: PriceTable;
  #total = 0;
  constructor(prices: PriceTable) {
    this.#prices = prices;
  }
  readonly usage = (model: string, usage: Usage) => {
    this.#total += actualCost(this.#prices, model, usage);
  };
  readonly add = (nanos: Nanos) => {
    this.#total += nanos;
  };
  get total(): number {
    return this.#total;
  }
}

/** What `finish` is handed with the structured answer. */
export interface FinishStep {
  ledger: CostLedger;
  /** Pays for attempts of later calls (an image) the provider may have billed without answering. */
  billing: AttemptBilling;
  degraded: boolean;
}

export interface GenerationSpec<T, R> {
  policyTask: Task;
  task: StructuredTask<T>;
  /** Its outcome is recorded once: generated, or rejected (refused by `finish`, or invalid after repair). */
  variant?: Variant | undefined;
  /** Images `finish` may generate, each reserved (and counted as a unit) at `nanos`. */
  images?: { count: number; nanos: Nanos };
  /** After the structured answer: moderation, images; throws to refuse. @default the answer itself */
  finish?: (data: T, step: FinishStep) => Promise<R>;
  /** The ledger to bill, when the caller shares it out itself (a batch's items). */
  ledger?: CostLedger;
  /**
   * How many approved results the finished value holds, counted for the task's cost per approved
   * result (lib/metrics/tasks.ts). Unset: the task has no such results.
   */
  approved?: (value: R) => number;
}

export interface Generated<R> {
  data: R;
  served: ServedBy;
  /** Made on the policy's cheaper model because the day's spend passed the alert threshold. */
  degraded: boolean;
  costNanos: Nanos;
}

/** Runs one generation through the pipeline (see the module header). */
export async function generate<T, R = T>(
  services: GenerationServices,
  spec: GenerationSpec<T, R>,
): Promise<Generated<R>> {
  const images = spec.images ?? { count: 0, nanos: 0 };
  const plan = await services.plan(spec.policyTask, spec.task, images.count * images.nanos);
  const ledger = spec.ledger ?? costLedger(services.prices);
  const uses: Capability[] = [spec.task.capability ?? 'text', ...(images.count ? ['image' as const] : [])];
  const spender = services.spend({ uses, units: plan.units + images.count });
  // The first call's breaker permit and upstream guard, asked for in the reservation's tick: one
  // Redis round trip between the last upstream call (the input's moderation) and this one.
  const early = services.early(uses[0] as Capability, plan.taskFor({ degraded: false }).model);
  try {
    const made = await spender.run(
      plan.estimate,
      async (tier) => {
        const task = plan.taskFor(tier);
        const billing = billingFor(tier, (capability, call) =>
          capability === 'image' ? images.nanos : plan.attemptNanos[call],
        );
        const answer = await services
          .providers(billing, early)
          .structured(task)
          .catch((err: unknown) => {
            // Both calls of an answer that stayed invalid were billed.
            if (err instanceof InvalidModelOutputError && err.usage)
              ledger.usage(task.model ?? '', err.usage);
            throw err;
          });
        ledger.usage(answer.model, answer.usage);
        const step = { ledger, billing, degraded: tier.degraded };
        const data = spec.finish ? await spec.finish(answer.data, step) : (answer.data as unknown as R);
        return { data, served: { provider: answer.provider, model: answer.model }, degraded: tier.degraded };
      },
      { value: () => ledger.total, error: () => ledger.total },
    );
    services.recordVariant(spec.variant, { costNanos: ledger.total, rejected: false });
    const approved = spec.approved?.(made.data) ?? 0;
    if (approved > 0) services.metrics?.approved(spec.task.name, approved);
    return { ...made, costNanos: ledger.total };
  } catch (err) {
    if (isRejection(err)) services.recordVariant(spec.variant, { costNanos: ledger.total, rejected: true });
    throw err;
  } finally {
    early.discard();
  }
}

/** Whether a generation's output was unusable: rejected by moderation, or invalid after its repair. */
export function isRejection(err: unknown): boolean {
  return err instanceof CreativeRejectedError || err instanceof InvalidModelOutputError;
}

/** `value`, marked when it was made on a degraded model (the mark is cached with it). */
export function markDegraded<T extends object>(value: T, degraded: boolean): T & MaybeDegraded {
  return degraded ? { ...value, degraded: true } : value;
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
