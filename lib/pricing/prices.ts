/**
 * Built-in prices in USD per 1M tokens, Standard tier, as of 2026-11-27. Figures and source tags come from
 * shared/reference/openai-api.md (§3.4 images, §4 embeddings, §7 text); none was read off the official
 * pricing page itself. [S8]/[S7]/[S6] are official model pages, [S12] a third-party tracker that says it
 * re-verified against the pricing page, [S13] other third-party tables. Config can replace any entry.
 */

export type PriceKind = 'text' | 'image' | 'embedding' | 'moderation';
export type ImageQuality = 'low' | 'medium' | 'high';

/** What one model costs. Rates are USD per 1M tokens. */
export interface ModelPrice {
  kind: PriceKind;
  /** Uncached input; for image models, text input (the prompt). */
  inputPerMillion: number;
  /** Input served from the prompt cache. */
  cachedInputPerMillion: number;
  /**
   * Input written to the prompt cache (`input_tokens_details.cache_write_tokens`). Absent: the input
   * rate. Text models: 1.25× input, the official rule for the newer models [S8].
   */
  cacheWritePerMillion?: number;
  /** Output; for image models, image output. */
  outputPerMillion: number;
  /** Image models: output tokens per 1024×1024 image by quality, for estimates before the call. */
  imageOutputTokens?: Readonly<Record<ImageQuality, number>>;
  /**
   * Requests with more input tokens than this are billed at 2× input (cached too) and 1.5× output for the
   * whole request. Absent: one rate at any length.
   */
  longContextInputTokens?: number;
}

/**
 * Output tokens per 1024×1024 image: low 272 / medium 1056 / high 4160. Measured for the gpt-image-1
 * family (community.openai.com via [S13]); assumed for gpt-image-2 and 2.5 (unverified). Only estimates
 * use them; the bill comes from the response's usage. Override `imageOutputTokens` if usage runs higher.
 */
export const GPT_IMAGE_OUTPUT_TOKENS: Readonly<Record<ImageQuality, number>> = Object.freeze({
  low: 272,
  medium: 1056,
  high: 4160,
});

/** The threshold on the official gpt-6-luna and gpt-5.6-luna pages [S8]. */
const LONG_CONTEXT_INPUT_TOKENS = 272_000;

/** Cache writes cost this much more than uncached input [S8]. */
export const CACHE_WRITE_FACTOR = 1.25;

const text = (input: number, cached: number, output: number, longContext = false): ModelPrice => ({
  kind: 'text',
  inputPerMillion: input,
  cachedInputPerMillion: cached,
  cacheWritePerMillion: input * CACHE_WRITE_FACTOR,
  outputPerMillion: output,
  ...(longContext ? { longContextInputTokens: LONG_CONTEXT_INPUT_TOKENS } : {}),
});
const image = (textInput: number, cachedTextInput: number, imageOutput: number): ModelPrice => ({
  kind: 'image',
  inputPerMillion: textInput,
  cachedInputPerMillion: cachedTextInput,
  outputPerMillion: imageOutput,
  imageOutputTokens: GPT_IMAGE_OUTPUT_TOKENS,
});
// Embeddings have no prompt cache and no output tokens.
const embedding = (input: number): ModelPrice => ({
  kind: 'embedding',
  inputPerMillion: input,
  cachedInputPerMillion: input,
  outputPerMillion: 0,
});
const FREE: ModelPrice = {
  kind: 'moderation',
  inputPerMillion: 0,
  cachedInputPerMillion: 0,
  outputPerMillion: 0,
};

// Cache writes cost 1.25× input on the newer models [S8]; every text model is priced so (a model that
// never reports cache writes is unaffected, and one that does is never under-charged).
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  // Official model page [S8].
  'gpt-6-luna': text(0.1, 0.01, 0.5, true),
  // Third-party tracker [S12][S13].
  'gpt-6.1-sol': text(2, 0.1, 10),
  // Third-party tracker [S12][S13].
  'gpt-6-astra': text(10, 1, 50),
  // Official model page [S8].
  'gpt-5.6-luna': text(0.2, 0.02, 1.2, true),
  // Third-party tracker [S12].
  'gpt-5.6-terra': text(2, 0.2, 12),
  // Third-party tracker [S12].
  'gpt-5.5': text(5, 0.5, 30),
  // Third-party tracker [S12], short-context rates. The long-context surcharge is assumed to match luna's
  // (unverified): over-charging past 272K is the safe error.
  'gpt-5.4': text(2.5, 0.25, 15, true),
  // Third-party tracker [S12].
  'gpt-5.4-mini': text(0.75, 0.075, 4.5),
  // Third-party tracker [S12] and GitHub docs' Copilot table.
  'gpt-4.1': text(2, 0.5, 8),
  // Third-party tracker [S12] and a rate card [S13].
  'gpt-4.1-mini': text(0.4, 0.1, 1.6),
  // Third-party tracker [S12]; cached rate third-party [S13].
  'gpt-4o': text(2.5, 1.25, 10),
  // Third-party tracker [S12]; cached rate third-party [S13].
  'gpt-4o-mini': text(0.15, 0.075, 0.6),
  // Third-party tracker [S12]: text input and cached, image output. Image input ($4, cached $1) is only
  // billed by edits, which the gateway does not make.
  'gpt-image-2': image(2.5, 0.625, 15),
  // Third-party tracker [S12]; image input would be $8 / $2 (edits only).
  'gpt-image-2.5-flare': image(5, 1.25, 30),
  // Third-party tracker [S12]; image input would be $8 / $2 (edits only).
  'gpt-image-2.5-sunburst': image(5, 1.25, 30),
  // Official model page [S7].
  'text-embedding-3-large': embedding(0.13),
  // Official page's quick comparison [S7] and third-party tables.
  'text-embedding-3-small': embedding(0.02),
  // Legacy; third-party [S7 table]. Its batch rate is not listed; the generic 50 % is assumed.
  'text-embedding-ada-002': embedding(0.1),
  // Free: official model page [S6]. `omni-moderation` catches dated snapshots.
  'omni-moderation-latest': FREE,
  'omni-moderation': FREE,
};
