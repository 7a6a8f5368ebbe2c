/**
 * A structured task's plan under its model policy, before anything is reserved: the worst case on the
 * policy's model and on the cheaper one it may degrade to (every candidate provider's), each call's
 * worst case, the task for the tier the reservation grants, and its units of work.
 */

import type { TieredEstimate } from './budget/held';
import type { Capability, Task } from './capabilities';
import { configOf } from './config';
import { type AttemptNanos, worstCaseStructured } from './domain/cost';
import type { Env } from './env';
import { tokenUnits } from './key-policy';
import { modelsFor } from './model-policy';
import type { Nanos } from './pricing';
import type { StructuredTask } from './providers';
import type { ProviderTarget } from './providers/targets';

/**
 * The models that may serve `capability`: the primary's (`primaryModel` when the task's policy names
 * one) and every backup's that offers it.
 */
export function candidateModels(
  targets: readonly Pick<ProviderTarget, 'models'>[],
  capability: Capability,
  primaryModel?: string,
): string[] {
  return targets.flatMap((p, i) =>
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
  env: Env,
  targets: readonly Pick<ProviderTarget, 'models'>[],
  policyTask: Task,
  task: StructuredTask<T>,
  extraNanos = 0,
): Promise<TaskPlan<T>> {
  const { prices } = configOf(env);
  const models = modelsFor(env, policyTask);
  const capability = task.capability ?? 'text';
  const planned = { ...task, reasoningEffort: models.reasoningEffort };
  const worst = (model: string) =>
    worstCaseStructured(prices, candidateModels(targets, capability, model), planned);
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
