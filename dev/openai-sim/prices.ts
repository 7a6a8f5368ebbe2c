import type { Usage } from './meter.ts';
import { isReasoningModel } from './reasoning.ts';

const FREE: ModelRates = { input: 0, cachedInput: 0, output: 0 };

/**
 * The simulator's own price list, in USD per 1M tokens at the Standard tier, taken from
 * shared/reference/openai-api.md §3.4, §4 and §7 (2026-11-27). It is deliberately not shared with the
 * gateway's pricing: the invoice exists to catch a wrong price there.
 *
 * - Cache writes cost 1.25× input for every text model (stated on the gpt-6-luna and gpt-5.6-luna pages;
 *   for the other text models an assumption, the costly case). Cached input is the listed cached rate.
 * - Image models: `input` is the text input rate, `output` the image output rate (the images endpoint
 *   takes text in and gives image tokens out).
 * - Models marked `longContext` (the two with official pages) bill a request over 272K input tokens at 2×
 *   input and cache rates and 1.5× output.
 * - Moderation is free. A model not listed (after stripping a `-YYYY-MM-DD` snapshot suffix) is billed $0
 *   and its invoice line says `priced: false`.
 */
export const MODEL_PRICES: Readonly<Record<string, ModelRates>> = {
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
  'gpt-5.4': { input: 2.5, cachedInput: 0.25, output: 15 },
  'gpt-5.4-mini': { input: 0.75, cachedInput: 0.075, output: 4.5 },
  'gpt-5.5': { input: 5, cachedInput: 0.5, output: 30 },
  'gpt-5.6-terra': { input: 2, cachedInput: 0.2, output: 12 },
  'gpt-5.6-luna': { input: 0.2, cachedInput: 0.02, output: 1.2, longContext: true },
  'gpt-6-astra': { input: 10, cachedInput: 1, output: 50 },
  'gpt-6.1-sol': { input: 2, cachedInput: 0.1, output: 10 },
  'gpt-6-luna': { input: 0.1, cachedInput: 0.01, cacheWrite: 0.125, output: 0.5, longContext: true },
  'gpt-image-2': { input: 2.5, cachedInput: 0.625, output: 15 },
  'gpt-image-2.5-sunburst': { input: 5, cachedInput: 1.25, output: 30 },
  'gpt-image-2.5-flare': { input: 5, cachedInput: 1.25, output: 30 },
  'text-embedding-3-small': { input: 0.02, cachedInput: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, cachedInput: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, cachedInput: 0.1, output: 0 },
  'omni-moderation-latest': FREE,
  'omni-moderation-2024-09-26': FREE,
  'text-moderation-latest': FREE,
  'text-moderation-stable': FREE,
};

/** One model's rates, in USD per 1M tokens. */
export interface ModelRates {
  input: number;
  cachedInput: number;
  /** @default 1.25 × input */
  cacheWrite?: number;
  output: number;
  /** Over LONG_CONTEXT_TOKENS input tokens: 2× input and cache rates, 1.5× output. */
  longContext?: boolean;
}

export const LONG_CONTEXT_TOKENS = 272_000;

/**
 * Per-call fees of the Responses API's built-in tools, in USD; a request is assumed to call each tool it
 * lists once. Third-party readings of OpenAI's pricing page (not in the reference; unverified): web search
 * $10 per 1k calls; the preview tool $25 per 1k calls with non-reasoning models; file search $2.50 per 1k
 * calls; code interpreter $0.03 per container (one per call assumed); image generation has no call fee, it
 * is billed as the image it makes, assumed one 1024² medium image of gpt-image-2 (1,056 tokens at $15/1M =
 * $0.01584); remote MCP only costs its tokens ($0).
 */
export const BUILT_IN_TOOL_FEES: Readonly<Record<string, ToolFee>> = {
  web_search: { usd: 0.01 },
  web_search_2025_08_26: { usd: 0.01 },
  web_search_preview: { usd: 0.01, nonReasoningUsd: 0.025 },
  web_search_preview_2025_03_11: { usd: 0.01, nonReasoningUsd: 0.025 },
  file_search: { usd: 0.0025 },
  code_interpreter: { usd: 0.03 },
  image_generation: { usd: 0.01584 },
  mcp: { usd: 0 },
};

/** A built-in tool's fee per call; `nonReasoningUsd` replaces it for models that do not reason. */
export interface ToolFee {
  usd: number;
  nonReasoningUsd?: number;
}

/** Token price multipliers as [numerator, denominator]: priority 2×, flex 0.5×; default and scale 1×. */
export const TIER_MULTIPLIERS: Readonly<Record<string, readonly [number, number]>> = {
  default: [1, 1],
  scale: [1, 1],
  priority: [2, 1],
  flex: [1, 2],
};

/** Batch API lines cost half of Standard, whatever tier they name. */
const BATCH_MULTIPLIER = [1, 2] as const;
const CACHE_WRITE_PREMIUM = 1.25;
const SNAPSHOT_SUFFIX = /-\d{4}-\d{2}-\d{2}$/;

/** A price in pico-dollars (1e-12 USD, an integer) and whether every part of it had a listed price. */
export interface Price {
  pico: number;
  priced: boolean;
}

/** The price of one request's usage; batch lines at the Batch discount. */
export function priceOf(usage: Usage, options: { batch?: boolean } = {}): Price {
  const rates = ratesFor(usage.model);
  const tier = options.batch ? BATCH_MULTIPLIER : TIER_MULTIPLIERS[usage.serviceTier];
  const toolsPico = usage.tools.reduce((sum, tool) => sum + toolFeePico(tool, usage.model), 0);
  if (!rates || !tier) return { pico: toolsPico, priced: false };
  const perToken = (usdPerMillion: number) => Math.round(usdPerMillion * 1e6);
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
  const inputPico =
    uncached * perToken(rates.input) +
    usage.cachedInputTokens * perToken(rates.cachedInput) +
    usage.cacheWriteTokens * perToken(rates.cacheWrite ?? rates.input * CACHE_WRITE_PREMIUM);
  const outputPico = usage.outputTokens * perToken(rates.output);
  const long = rates.longContext === true && usage.inputTokens > LONG_CONTEXT_TOKENS;
  const tokensPico = long ? inputPico * 2 + (outputPico * 3) / 2 : inputPico + outputPico;
  return { pico: Math.round((tokensPico * tier[0]) / tier[1]) + toolsPico, priced: true };
}

/** The rates of `model` or of the model it is a dated snapshot of. */
export function ratesFor(model: string): ModelRates | undefined {
  return MODEL_PRICES[model] ?? MODEL_PRICES[model.replace(SNAPSHOT_SUFFIX, '')];
}

function toolFeePico(tool: string, model: string): number {
  const fee = BUILT_IN_TOOL_FEES[tool];
  if (!fee) return 0;
  const usd = !isReasoningModel(model) && fee.nonReasoningUsd !== undefined ? fee.nonReasoningUsd : fee.usd;
  return Math.round(usd * 1e12);
}
