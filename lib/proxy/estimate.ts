/**
 * Pricing a proxied request before the call: its prompt counted with the o200k tokenizer (erring
 * high, like every estimate the budget reserves), and its output cap. A request that names no cap
 * gets the configured default written into it, so what the budget reserves really is the worst case.
 */
import { InvalidRequestError } from '../errors';
import {
  estimateImageCost,
  estimateTextCost,
  type ImageQuality,
  type ModelPrice,
  type Nanos,
} from '../pricing';
import {
  IMAGE_INPUT_TOKENS,
  MESSAGE_OVERHEAD_TOKENS,
  REPLY_PRIMING_TOKENS,
  SAFETY_MARGIN_PERCENT,
  SAFETY_MARGIN_TOKENS,
  type TokenCounter,
} from '../tokens';

export interface OutputLimits {
  /** PROXY_DEFAULT_MAX_OUTPUT_TOKENS: reserved and sent upstream when the request names no cap. */
  defaultTokens: number;
  /** PROXY_MAX_OUTPUT_TOKENS: the largest cap a request may name. */
  maxTokens: number;
}

/**
 * The request's output cap: the first of `fields` it sets, else the default, which is then written
 * into `body` as `writeTo` (the upstream must stop where the reservation stops).
 * @throws InvalidRequestError naming the field when the cap is above `limits.maxTokens`.
 */
export function capOutput(
  body: Record<string, unknown>,
  fields: readonly string[],
  writeTo: string,
  limits: OutputLimits,
): { body: Record<string, unknown>; maxOutputTokens: number } {
  for (const field of fields) {
    const cap = body[field];
    if (typeof cap !== 'number') continue;
    if (cap > limits.maxTokens) {
      throw new InvalidRequestError({
        message: `${field} must be at most ${limits.maxTokens} through this gateway.`,
        param: field,
      });
    }
    return { body, maxOutputTokens: cap };
  }
  const cap = Math.min(limits.defaultTokens, limits.maxTokens);
  return { body: { ...body, [writeTo]: cap }, maxOutputTokens: cap };
}

/**
 * Input tokens a conversation may be billed: every string in `messages` (content, names, tool-call
 * arguments) plus per-message overhead, `extras` (tools, response formats) as their JSON text, the
 * tokenizer margins, and a fixed allowance per image part (its URL or data is not text the model reads).
 */
export function promptTokens(counter: TokenCounter, messages: readonly unknown[], extras: unknown[]): number {
  let tokens = REPLY_PRIMING_TOKENS;
  let images = 0;
  const walk = (value: unknown): void => {
    if (typeof value === 'string') tokens += counter.countTextTokens(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const type = (value as { type?: unknown }).type;
      if (type === 'image_url' || type === 'input_image') images += 1;
      else Object.values(value).forEach(walk);
    }
  };
  for (const message of messages) {
    tokens += MESSAGE_OVERHEAD_TOKENS;
    walk(message);
  }
  for (const extra of extras) {
    if (extra !== undefined && extra !== null) tokens += counter.countTextTokens(JSON.stringify(extra));
  }
  const margin = Math.ceil((tokens * SAFETY_MARGIN_PERCENT) / 100) + SAFETY_MARGIN_TOKENS;
  return tokens + margin + images * IMAGE_INPUT_TOKENS;
}

/** How many inputs an embeddings request carries: each string, or each array of token ids. */
export function embeddingInputs(input: string | string[] | number[] | number[][]): number {
  return typeof input === 'string' || typeof input[0] === 'number' ? 1 : input.length;
}

/** Tokens of embeddings input: strings counted (10 % margin and 8 per input), token arrays as given. */
export function embeddingTokens(
  counter: TokenCounter,
  input: string | string[] | number[] | number[][],
): number {
  const inputs: (string | number[])[] =
    typeof input === 'string'
      ? [input]
      : typeof input[0] === 'number'
        ? [input as number[]]
        : (input as (string | number[])[]);
  return inputs.reduce<number>(
    (sum, item) =>
      sum + (typeof item === 'string' ? Math.ceil(counter.countTextTokens(item) * 1.1) + 8 : item.length),
    0,
  );
}

/** The dearest of `prices` for this prompt and every output token of every choice. */
export function worstTextCost(prices: ModelPrice[], inputTokens: number, outputTokens: number): Nanos {
  return Math.max(0, ...prices.map((price) => estimateTextCost(price, inputTokens, outputTokens)));
}

/** `n` images of `size` at `quality` ('auto' may pick high); the prompt is billed once. */
export function imagesCost(
  price: ModelPrice,
  promptTokens: number,
  n: number,
  size: string,
  quality: ImageQuality | 'auto',
): Nanos {
  const q: ImageQuality = quality === 'auto' ? 'high' : quality;
  return estimateImageCost(price, promptTokens, size, q) + (n - 1) * estimateImageCost(price, 0, size, q);
}
