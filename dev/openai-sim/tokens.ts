/** Tokens charged per input image, whatever its size (OpenAI's low-detail figure). */
export const IMAGE_INPUT_TOKENS = 85;

/** The simulator's token: this many characters of text (the prompt cache cuts prompts at token boundaries). */
export const CHARS_PER_TOKEN = 4;

/**
 * A deterministic token estimate: about four characters per token, at least one. Real tokenizers differ;
 * callers only need counts that are stable and grow with the text.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

/** Cuts `text` so that `estimateTokens` of the result is at most `maxTokens`. */
export function truncateToTokens(text: string, maxTokens: number): string {
  return text.slice(0, Math.max(0, maxTokens) * CHARS_PER_TOKEN);
}
