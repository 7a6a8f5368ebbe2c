import { ConfigError } from './env';
import { applyOverride, type PriceOverride, priceProblem } from './pricing/overrides';
import { type ImageQuality, MODEL_PRICES, type ModelPrice } from './pricing/prices';
import type { Usage } from './providers/usage';

export type { ImageQuality, ModelPrice, PriceKind } from './pricing/prices';
export { CACHE_WRITE_FACTOR, GPT_IMAGE_OUTPUT_TOKENS, MODEL_PRICES } from './pricing/prices';

/**
 * Money as integer nano-dollars (1e-9 USD). Integers add up exactly, so budget counters in Redis never
 * drift; `Number.MAX_SAFE_INTEGER` nanos is about 9 million dollars.
 */
export type Nanos = number;

/** Standard, or the Batch API at 50 % of Standard on input and output (reference §5, §7). */
export type PriceTier = 'standard' | 'batch';

export interface PriceTable {
  /**
   * The price of `model`, or of its base model when the id ends in a dated snapshot suffix
   * (`gpt-4.1-2025-04-14` → `gpt-4.1`); an exact entry wins over the base. `undefined` for a model the
   * table cannot price: callers must refuse to call such a model, since its spend could not be budgeted.
   */
  price(model: string): ModelPrice | undefined;
  /** The table's own name for `model` (its base for a dated snapshot), or undefined when unpriced. */
  entryOf(model: string): string | undefined;
}

/** A dated snapshot's suffix: `gpt-4.1-2025-04-14` is `gpt-4.1` as of that day. */
export const SNAPSHOT_SUFFIX = /-\d{4}-\d{2}-\d{2}$/;
const NANOS_PER_USD = 1e9;
const PICOS_PER_NANO = 1000;
/** Fallback for a 'auto' size: the largest of the standard sizes the model may pick. */
const AUTO_IMAGE_SIZE = '1536x1024';

/**
 * The built-in prices with `overrides` applied. An override whose `kind` matches the built-in entry
 * changes only the fields it names; any other override defines a whole model, which then needs its
 * rates (cached input defaults to the uncached rate, image token counts to the gpt-image figures).
 * @throws ConfigError naming each `PRICING_OVERRIDES` entry at fault.
 */
export function createPriceTable(overrides: Record<string, PriceOverride> = {}): PriceTable {
  const prices = new Map<string, ModelPrice>(Object.entries(MODEL_PRICES));
  const problems: string[] = [];
  for (const [model, override] of Object.entries(overrides)) {
    const merged = applyOverride(prices.get(model), override);
    const problem = priceProblem(merged);
    if (problem) problems.push(`PRICING_OVERRIDES.${model}: ${problem}`);
    else prices.set(model, Object.freeze(merged as ModelPrice));
  }
  if (problems.length) throw new ConfigError(problems);
  const entryOf = (model: string) => {
    if (prices.has(model)) return model;
    const base = model.replace(SNAPSHOT_SUFFIX, '');
    return prices.has(base) ? base : undefined;
  };
  return {
    price: (model) => {
      const entry = entryOf(model);
      return entry === undefined ? undefined : prices.get(entry);
    },
    entryOf,
  };
}

/**
 * What `usage` cost, rounded up to a whole nano: cached tokens at the cached rate, tokens written to
 * the cache at the cache-write rate, the rest of the input at the input rate, output at the output
 * rate, with the long-context surcharge when the input passes the model's threshold. Exact integer
 * arithmetic; moderation models cost 0.
 * @throws RangeError for token counts that are not non-negative integers.
 */
export function costOf(price: ModelPrice, usage: Usage, tier: PriceTier = 'standard'): Nanos {
  const inputTokens = tokenCount(usage.inputTokens, 'inputTokens');
  const cached = Math.min(tokenCount(usage.cachedTokens, 'cachedTokens'), inputTokens);
  const written = Math.min(tokenCount(usage.cacheWriteTokens ?? 0, 'cacheWriteTokens'), inputTokens - cached);
  const outputTokens = tokenCount(usage.outputTokens, 'outputTokens');
  const long = price.longContextInputTokens !== undefined && inputTokens > price.longContextInputTokens;
  const inputPicos =
    (inputTokens - cached - written) * picosPerToken(price.inputPerMillion) +
    cached * picosPerToken(price.cachedInputPerMillion) +
    written * picosPerToken(price.cacheWritePerMillion ?? price.inputPerMillion);
  const outputPicos = outputTokens * picosPerToken(price.outputPerMillion);
  // Doubled throughout so the 1.5× output surcharge stays an integer; halved again by the divisor.
  const doubledPicos = inputPicos * (long ? 4 : 2) + outputPicos * (long ? 3 : 2);
  if (!Number.isSafeInteger(doubledPicos)) throw new RangeError('Cost is beyond exact integer range.');
  return ceilDiv(doubledPicos, 2 * PICOS_PER_NANO * (tier === 'batch' ? 2 : 1));
}

/**
 * The most a text (or embedding) call can cost: all of `inputTokens` uncached and written to the prompt
 * cache (when that costs more than plain input), and every one of `maxOutputTokens` produced. What the
 * budget reserves before the call; 0 output for embeddings.
 */
export function estimateTextCost(
  price: ModelPrice,
  inputTokens: number,
  maxOutputTokens: number,
  tier: PriceTier = 'standard',
): Nanos {
  const writesCostMore = (price.cacheWritePerMillion ?? 0) > price.inputPerMillion;
  const usage = {
    inputTokens,
    cachedTokens: 0,
    cacheWriteTokens: writesCostMore ? inputTokens : 0,
    outputTokens: maxOutputTokens,
  };
  return costOf(price, usage, tier);
}

/**
 * The expected cost of one generated image: the prompt uncached, plus the model's output tokens for
 * `quality` at 1024×1024 scaled by pixel area and rounded up. `size` is `WIDTHxHEIGHT` or 'auto'
 * (estimated as 1536x1024, the largest standard size).
 * @throws Error when `price` has no image token counts (not an image model).
 * @throws RangeError for a malformed size.
 */
export function estimateImageCost(
  price: ModelPrice,
  promptTokens: number,
  size: string,
  quality: ImageQuality,
  tier: PriceTier = 'standard',
): Nanos {
  const perImage = price.imageOutputTokens?.[quality];
  if (perImage === undefined) throw new Error(`No image token counts for a '${price.kind}' price.`);
  const match = /^(\d+)x(\d+)$/.exec(size === 'auto' ? AUTO_IMAGE_SIZE : size);
  if (!match) throw new RangeError(`Image size '${size}' is not WIDTHxHEIGHT.`);
  const outputTokens = Math.ceil((perImage * Number(match[1]) * Number(match[2])) / (1024 * 1024));
  return costOf(price, { inputTokens: promptTokens, cachedTokens: 0, outputTokens }, tier);
}

/** Dollars to nanos, rounded to the nearest nano (for configured amounts such as budgets). */
export function usdToNanos(usd: number): Nanos {
  if (!Number.isFinite(usd)) throw new RangeError(`Not a dollar amount: ${usd}.`);
  return Math.round(usd * NANOS_PER_USD);
}

/** Nanos to dollars, for display and logs. */
export function nanosToUsd(nanos: Nanos): number {
  return nanos / NANOS_PER_USD;
}

/** USD per 1M tokens as pico-dollars per token, rounded up past float noise (0.07 × 1e6 = 70000.00…01). */
function picosPerToken(usdPerMillion: number): number {
  return Math.max(0, Math.ceil(usdPerMillion * 1e6 - 1e-6));
}

function tokenCount(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole count.`);
  return value;
}

function ceilDiv(numerator: number, divisor: number): number {
  const remainder = numerator % divisor;
  return (numerator - remainder) / divisor + (remainder > 0 ? 1 : 0);
}
