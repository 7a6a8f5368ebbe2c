/**
 * What an OpenAI answer says it billed, per API (the field names differ between them). Undefined
 * when the answer carries no readable usage: the budget then settles the whole reservation.
 */
import { z } from 'zod';
import type { Usage } from '../providers/usage';

const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const ChatUsage = z.object({
  prompt_tokens: Count,
  completion_tokens: Count,
  prompt_tokens_details: z
    .object({ cached_tokens: Count.nullish(), cache_write_tokens: Count.nullish() })
    .nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: Count.nullish() }).nullish(),
});
const ResponsesUsage = z.object({
  input_tokens: Count,
  output_tokens: Count,
  input_tokens_details: z
    .object({ cached_tokens: Count.nullish(), cache_write_tokens: Count.nullish() })
    .nullish(),
  output_tokens_details: z.object({ reasoning_tokens: Count.nullish() }).nullish(),
});
const EmbeddingsUsage = z.object({ prompt_tokens: Count });
const ImagesUsage = z.object({ input_tokens: Count, output_tokens: Count });

export type UsageReader = (usage: unknown) => Usage | undefined;

/** Chat Completions (and backups speaking it): `prompt_tokens`, `completion_tokens`. */
export const chatUsage: UsageReader = (usage) => {
  const u = ChatUsage.safeParse(usage).data;
  if (!u) return undefined;
  const cachedTokens = u.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheWriteTokens = u.prompt_tokens_details?.cache_write_tokens ?? 0;
  const reasoningTokens = u.completion_tokens_details?.reasoning_tokens ?? 0;
  const outputTokens = u.completion_tokens;
  return { inputTokens: u.prompt_tokens, cachedTokens, cacheWriteTokens, outputTokens, reasoningTokens };
};

/** Responses: `input_tokens`, `output_tokens` (reasoning included). */
export const responsesUsage: UsageReader = (usage) => {
  const u = ResponsesUsage.safeParse(usage).data;
  if (!u) return undefined;
  const cachedTokens = u.input_tokens_details?.cached_tokens ?? 0;
  const cacheWriteTokens = u.input_tokens_details?.cache_write_tokens ?? 0;
  const reasoningTokens = u.output_tokens_details?.reasoning_tokens ?? 0;
  const outputTokens = u.output_tokens;
  return { inputTokens: u.input_tokens, cachedTokens, cacheWriteTokens, outputTokens, reasoningTokens };
};

/** Embeddings: input only. */
export const embeddingsUsage: UsageReader = (usage) => {
  const u = EmbeddingsUsage.safeParse(usage).data;
  return u ? { inputTokens: u.prompt_tokens, cachedTokens: 0, outputTokens: 0 } : undefined;
};

/** Images: the prompt's tokens and the image output tokens. */
export const imagesUsage: UsageReader = (usage) => {
  const u = ImagesUsage.safeParse(usage).data;
  return u ? { inputTokens: u.input_tokens, cachedTokens: 0, outputTokens: u.output_tokens } : undefined;
};

/** The usage of a JSON answer body, read by `reader` from its `usage` field. */
export function usageOfBody(json: unknown, reader: UsageReader): Usage | undefined {
  return json && typeof json === 'object' ? reader((json as { usage?: unknown }).usage) : undefined;
}
