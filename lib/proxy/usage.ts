/**
 * What an OpenAI answer says it billed, per API (the field names differ between them). Undefined
 * when the answer carries no readable usage: the budget then settles the whole reservation.
 *
 * Read by hand rather than with zod: every proxied answer passes here, and zod without code generation
 * (Workers allow no `new Function`) built a tenth of a proxied call's allocations. The rules are zod's
 * `z.object` of counts: the totals required, the details objects and their counts optional (absent or
 * null), anything else present (a string, a fraction, a negative) makes the whole usage unreadable.
 */
import type { Usage } from '../providers/usage';

type Fields = Readonly<Record<string, unknown>>;

const NONE: Fields = {};
/** Set where a field is present and not a count. */
const UNREADABLE = -1;

const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A token count: a whole number from 0 to Number.MAX_SAFE_INTEGER. */
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** An optional count: 0 when absent or null, UNREADABLE when present and not a count. */
const countOr0 = (v: unknown) => (v === undefined || v === null ? 0 : isCount(v) ? v : UNREADABLE);
/** An optional details object: NONE when absent or null, undefined when present and not an object. */
const detailsOf = (v: unknown) => (v === undefined || v === null ? NONE : isFields(v) ? v : undefined);

/** The usage from its totals' and details' field names; undefined when any part is unreadable. */
function readUsage(
  usage: unknown,
  names: { input: string; output: string; inputDetails: string; outputDetails: string },
): Usage | undefined {
  if (!isFields(usage)) return undefined;
  const inputTokens = usage[names.input];
  const outputTokens = usage[names.output];
  if (!isCount(inputTokens) || !isCount(outputTokens)) return undefined;
  const input = detailsOf(usage[names.inputDetails]);
  const output = detailsOf(usage[names.outputDetails]);
  if (!input || !output) return undefined;
  const cachedTokens = countOr0(input.cached_tokens);
  const cacheWriteTokens = countOr0(input.cache_write_tokens);
  const reasoningTokens = countOr0(output.reasoning_tokens);
  if (cachedTokens < 0 || cacheWriteTokens < 0 || reasoningTokens < 0) return undefined;
  return { inputTokens, cachedTokens, cacheWriteTokens, outputTokens, reasoningTokens };
}

const CHAT = {
  input: 'prompt_tokens',
  output: 'completion_tokens',
  inputDetails: 'prompt_tokens_details',
  outputDetails: 'completion_tokens_details',
};
const RESPONSES = {
  input: 'input_tokens',
  output: 'output_tokens',
  inputDetails: 'input_tokens_details',
  outputDetails: 'output_tokens_details',
};

export type UsageReader = (usage: unknown) => Usage | undefined;

/** Chat Completions (and backups speaking it): `prompt_tokens`, `completion_tokens`. */
export const chatUsage: UsageReader = (usage) => readUsage(usage, CHAT);

/** Responses: `input_tokens`, `output_tokens` (reasoning included). */
export const responsesUsage: UsageReader = (usage) => readUsage(usage, RESPONSES);

/** Embeddings: input only. */
export const embeddingsUsage: UsageReader = (usage) =>
  isFields(usage) && isCount(usage.prompt_tokens)
    ? { inputTokens: usage.prompt_tokens, cachedTokens: 0, outputTokens: 0 }
    : undefined;

/** Images: the prompt's tokens and the image output tokens. */
export const imagesUsage: UsageReader = (usage) =>
  isFields(usage) && isCount(usage.input_tokens) && isCount(usage.output_tokens)
    ? { inputTokens: usage.input_tokens, cachedTokens: 0, outputTokens: usage.output_tokens }
    : undefined;

/** The usage of a JSON answer body, read by `reader` from its `usage` field. */
export function usageOfBody(json: unknown, reader: UsageReader): Usage | undefined {
  return json && typeof json === 'object' ? reader((json as { usage?: unknown }).usage) : undefined;
}
