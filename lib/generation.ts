/**
 * One structured generation as an endpoint runs it: planned under the task's model policy, paid for
 * through the budget (on the cheaper tier when the reservation says so), its variant's outcome
 * counted. Endpoints add their own moderation and caching around it.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app';
import { configOf } from './config';
import { structuredCost } from './domain/cost';
import type { Task } from './env';
import { CreativeRejectedError, InvalidModelOutputError } from './errors';
import type { Nanos } from './pricing';
import type { StructuredTask } from './providers';
import {
  billingFor,
  type MaybeDegraded,
  planTask,
  providersFor,
  recordVariantFor,
  type ServedBy,
  spendFor,
} from './request-context';
import type { Variant } from './variants';

export interface Generated<T> {
  data: T;
  served: ServedBy;
  /** Made on the policy's cheaper model because the day's spend passed the alert threshold. */
  degraded: boolean;
  costNanos: Nanos;
}

/**
 * Reserves, generates and settles `task` for `policyTask`, then hands the output to `approve` (moderation),
 * which throws to refuse it. An output invalid after repair, or one `approve` rejects, counts as rejected
 * for its variant; what it cost is settled either way.
 */
export async function generateFor<T>(
  c: Context<AppEnv>,
  policyTask: Task,
  task: StructuredTask<T>,
  variant?: Variant,
  approve?: (data: T) => Promise<void>,
): Promise<Generated<T>> {
  const { prices } = configOf(c.get('env'));
  const plan = await planTask(c, policyTask, task);
  let model = '';
  const cost = structuredCost(prices, () => model);
  try {
    const generated = await spendFor(c, { uses: [task.capability ?? 'text'], units: plan.units }).run(
      plan.estimate,
      async (tier) => {
        const tiered = plan.taskFor(tier);
        model = tiered.model ?? '';
        const billing = billingFor(tier, (_capability, call) => plan.attemptNanos[call]);
        return { ...(await providersFor(c, billing).structured(tiered)), degraded: tier.degraded };
      },
      cost,
    );
    const costNanos = cost.value(generated);
    const refusal = approve ? await thrownBy(() => approve(generated.data)) : undefined;
    recordVariantFor(c, variant, { costNanos, rejected: refusal instanceof CreativeRejectedError });
    if (refusal !== undefined) throw refusal;
    return {
      data: generated.data,
      served: { provider: generated.provider, model: generated.model },
      degraded: generated.degraded,
      costNanos,
    };
  } catch (err) {
    if (err instanceof InvalidModelOutputError)
      recordVariantFor(c, variant, { costNanos: cost.error(err), rejected: true });
    throw err;
  }
}

/** What `run` threw, or undefined when it returned. */
async function thrownBy(run: () => Promise<void>): Promise<unknown> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return err;
  }
}

/** `value`, marked when it was made on a degraded model (the mark is cached with it). */
export function markDegraded<T extends object>(value: T, degraded: boolean): T & MaybeDegraded {
  return degraded ? { ...value, degraded: true } : value;
}
