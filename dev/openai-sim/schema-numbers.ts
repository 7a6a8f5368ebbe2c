import type { Rng } from './rng.ts';

type Schema = Record<string, unknown>;

/** Typical ranges by property name, used when they fit within the schema's own bounds. */
const NAME_RANGES: Array<[RegExp, number, number]> = [
  [/price|amount|cost|total|revenue|budget|spend/, 5, 500],
  [/confidence|probability|score|ratio|weight|similarity|share/, 0, 1],
  [/rating|stars/, 1, 5],
  [/percent|pct/, 0, 100],
  [/count|quantity|qty|number|num|rank|position|index/, 1, 10],
  [/year/, 2020, 2026],
  [/age/, 18, 80],
];

/**
 * A number inside the schema's bounds (`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, in both
 * the draft-4 boolean and the numeric form) and on `multipleOf`, preferring a range typical for `name`.
 */
export function numberFor(schema: Schema, integer: boolean, name: string, rng: Rng): number {
  const [low, high] = bounds(schema, integer);
  const hint = NAME_RANGES.find(([pattern]) => pattern.test(name.toLowerCase()));
  let [from, to] =
    hint && hint[1] <= high && hint[2] >= low
      ? [Math.max(low, hint[1]), Math.min(high, hint[2])]
      : [low, high];
  if (!Number.isFinite(from) && !Number.isFinite(to)) [from, to] = [1, 100];
  else if (!Number.isFinite(from)) from = to - 100;
  else if (!Number.isFinite(to)) to = from + 100;

  const step = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : undefined;
  if (step !== undefined) {
    const first = Math.ceil(from / step);
    const last = Math.floor(to / step);
    if (first <= last) return roundToStep(rng.int(first, last) * step, step);
  }
  if (integer) return rng.int(Math.ceil(from), Math.floor(to));
  const value = from + (to - from) * (0.1 + 0.8 * rng.next());
  const rounded = Math.round(value * 100) / 100;
  return rounded >= low && rounded <= high ? rounded : value;
}

/** Inclusive [low, high] with exclusive bounds nudged inwards. */
function bounds(schema: Schema, integer: boolean): [number, number] {
  const epsilon = integer ? 1 : 1e-6;
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  if (typeof schema.minimum === 'number') low = schema.minimum;
  if (typeof schema.maximum === 'number') high = schema.maximum;
  if (typeof schema.exclusiveMinimum === 'number')
    low = Math.max(low, nextAbove(schema.exclusiveMinimum, integer, epsilon));
  if (typeof schema.exclusiveMaximum === 'number')
    high = Math.min(high, nextBelow(schema.exclusiveMaximum, integer, epsilon));
  if (schema.exclusiveMinimum === true && Number.isFinite(low)) low = nextAbove(low, integer, epsilon);
  if (schema.exclusiveMaximum === true && Number.isFinite(high)) high = nextBelow(high, integer, epsilon);
  if (integer) [low, high] = [Math.ceil(low), Math.floor(high)];
  return [low, high];
}

function nextAbove(value: number, integer: boolean, epsilon: number): number {
  return integer ? Math.floor(value) + 1 : value + Math.max(epsilon, Math.abs(value) * epsilon);
}

function nextBelow(value: number, integer: boolean, epsilon: number): number {
  return integer ? Math.ceil(value) - 1 : value - Math.max(epsilon, Math.abs(value) * epsilon);
}

/** k * step without binary noise such as 0.30000000000000004. */
function roundToStep(value: number, step: number): number {
  const decimals = (String(step).split('.')[1] ?? '').length;
  return Number(value.toFixed(Math.min(decimals, 20)));
}
