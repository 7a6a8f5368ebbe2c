/**
 * Reasoning models spend part of every call's output cap thinking: `max_output_tokens` counts reasoning
 * tokens and the visible answer alike, and a cap sized for the answer alone can end `incomplete` before
 * any text (reference: production-realities.md). So each structured task names an effort, and the cap
 * of a call is its answer's own cap plus an allowance for that effort.
 */

import { REASONING_EFFORTS } from '../capabilities';

export { REASONING_EFFORTS };
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** What a task thinks at unless its model policy says otherwise: enough for short, well-specified copy. */
export const DEFAULT_REASONING_EFFORT: ReasoningEffort = 'low';

/**
 * Output tokens allowed for reasoning at each effort, on top of the answer's cap: about four times
 * what the effort typically spends, so a long tail is covered, and an answer cut off anyway gets one
 * more call at twice the cap (INCOMPLETE_RETRY_FACTOR).
 */
export const REASONING_ALLOWANCE: Readonly<Record<ReasoningEffort, number>> = Object.freeze({
  none: 0,
  minimal: 256,
  low: 1024,
  medium: 4096,
  high: 16_384,
  xhigh: 32_768,
  max: 65_536,
});

/** The retry of an answer cut off at its cap gets this many times the cap. */
export const INCOMPLETE_RETRY_FACTOR = 2;

/**
 * OpenAI's reasoning models (o-series, GPT-5 and GPT-6 families, not the `-chat` aliases). Only they
 * take `reasoning`; other models reject the field.
 */
export function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5|gpt-6)/.test(model) && !/-chat(-|$)/.test(model);
}

/** The output cap of one call to `model` whose visible answer may take `answerTokens`. */
export function outputCap(answerTokens: number, model: string, effort: ReasoningEffort): number {
  return answerTokens + (isReasoningModel(model) ? REASONING_ALLOWANCE[effort] : 0);
}

/** The Responses API's `reasoning` field for `model`, or nothing for a model that does not reason. */
export function reasoningParam(
  model: string,
  effort: ReasoningEffort,
): { reasoning?: { effort: ReasoningEffort } } {
  return isReasoningModel(model) ? { reasoning: { effort } } : {};
}
