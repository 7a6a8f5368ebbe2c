/**
 * Prompt variants for A/B tests (PROMPT_VARIANTS): which variant a request gets, and per day and
 * variant how many generations it made, how many were rejected and what they cost.
 *
 * Assignment is sticky: a hash of the request's cache fields picks the variant by weight, so the same
 * request always meets the same variant and its cached answer stays reusable. The variant joins the
 * cache key, so variants never serve each other's answers.
 */
import type { Task } from './capabilities';
import type { Env } from './env';
import { InvalidRequestError } from './errors';
import type { Nanos } from './pricing';
import type { StructuredTask } from './providers';
import type { Redis } from './store';
import { redisKey } from './store';

export type VariantTask = 'opportunities' | 'creatives' | 'vision';

export interface Variant {
  task: VariantTask;
  name: string;
  /** Added to the task's instructions; empty for a control. */
  instructions: string;
}

/** Days a day's variant counters are kept. */
const RETENTION_SECONDS = 35 * 86_400;

/**
 * The variant for a request of `task` whose cache fields are `unit`, or undefined when the task has no
 * variants. `forced` (the `x-gateway-variant` header) picks one by name, weight 0 included.
 * @throws BadRequestError for a forced name the task does not have.
 */
export function chooseVariant(
  env: Env,
  task: VariantTask,
  unit: unknown,
  forced?: string,
): Variant | undefined {
  const variants = env.PROMPT_VARIANTS[task];
  if (!variants) return undefined;
  if (forced !== undefined) {
    const named = variants.find((v) => v.name === forced);
    if (!named) {
      throw new InvalidRequestError({
        code: 'unknown_variant',
        param: 'x-gateway-variant',
        message: `Prompt variant '${forced}' is not configured for ${task}; known: ${variants.map((v) => v.name).join(', ')}.`,
      });
    }
    return { task, name: named.name, instructions: named.instructions };
  }
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let point = (fnv1a(JSON.stringify(unit)) / 2 ** 32) * total;
  for (const v of variants) {
    if (v.weight > 0 && point < v.weight) return { task, name: v.name, instructions: v.instructions };
    point -= v.weight;
  }
  // Rounding at the very top of the range: the last variant with weight.
  const last = variants.findLast((v) => v.weight > 0) ?? variants[0];
  return last && { task, name: last.name, instructions: last.instructions };
}

/** The task with the variant's instructions added, and its own prompt-cache key (its own prefix). */
export function withVariant<T>(task: StructuredTask<T>, variant: Variant | undefined): StructuredTask<T> {
  if (!variant?.instructions) return task;
  return {
    ...task,
    instructions: `${task.instructions}\n\n${variant.instructions}`,
    ...(task.cacheKey ? { cacheKey: `${task.cacheKey}-${variant.name}` } : {}),
  };
}

/** The cache-key field naming the variant; nothing when the task has none, so keys stay as they were. */
export function variantField(variant: Variant | undefined): { variant?: string } {
  return variant ? { variant: variant.name } : {};
}

/** One finished generation of a variant: what it cost and whether its output was rejected. */
export interface VariantOutcome {
  costNanos: Nanos;
  rejected: boolean;
}

const countersKey = (day: string, task: Task) => redisKey('variants', day, task);

/** Adds one outcome to the day's counters: one pipelined request, meant for `waitUntil`. Never rejects. */
export async function recordVariant(
  redis: Pick<Redis, 'pipeline'>,
  day: string,
  variant: Variant,
  outcome: VariantOutcome,
): Promise<void> {
  const key = countersKey(day, variant.task);
  const p = redis.pipeline();
  p.hincrby(key, `${variant.name}:generated`, 1);
  if (outcome.rejected) p.hincrby(key, `${variant.name}:rejected`, 1);
  if (outcome.costNanos > 0) p.hincrby(key, `${variant.name}:cost_nanos`, outcome.costNanos);
  p.expire(key, RETENTION_SECONDS);
  await p.exec().catch(() => undefined);
}

export interface VariantTotals {
  generated: number;
  rejected: number;
  costNanos: Nanos;
}

/** Each task's counters summed over `days`, by variant name: one pipelined request. */
export async function readVariants(
  redis: Pick<Redis, 'pipeline'>,
  tasks: VariantTask[],
  days: string[],
): Promise<Record<string, Record<string, VariantTotals>>> {
  const p = redis.pipeline();
  const pairs = tasks.flatMap((task) => days.map((day) => ({ task, day })));
  for (const { task, day } of pairs) p.hgetall(countersKey(day, task));
  const hashes = pairs.length ? await p.exec<(Record<string, unknown> | null)[]>() : [];
  const out: Record<string, Record<string, VariantTotals>> = {};
  pairs.forEach(({ task }, i) => {
    const byName = out[task] ?? {};
    out[task] = byName;
    for (const [field, raw] of Object.entries(hashes[i] ?? {})) {
      const at = field.lastIndexOf(':');
      const name = field.slice(0, at);
      const totals = byName[name] ?? { generated: 0, rejected: 0, costNanos: 0 };
      byName[name] = totals;
      const value = Number(raw) || 0;
      const counter = field.slice(at + 1);
      if (counter === 'generated') totals.generated += value;
      else if (counter === 'rejected') totals.rejected += value;
      else if (counter === 'cost_nanos') totals.costNanos += value;
    }
  });
  return out;
}

/** 32-bit FNV-1a: fast, stable and well spread for bucketing (not for security). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
