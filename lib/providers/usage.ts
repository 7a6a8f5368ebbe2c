/** Tokens a provider billed for one or more calls; what pricing turns into dollars. */
export interface Usage {
  inputTokens: number;
  /** The part of `inputTokens` served from the provider's prompt cache (billed lower). */
  cachedTokens: number;
  /** The part of `inputTokens` written to the provider's prompt cache (billed higher). @default 0 */
  cacheWriteTokens?: number;
  outputTokens: number;
  /** The part of `outputTokens` a reasoning model spent thinking (billed as output). @default 0 */
  reasoningTokens?: number;
}

export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, cachedTokens: 0, outputTokens: 0 });

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
    cacheWriteTokens: (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0),
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0),
  };
}
