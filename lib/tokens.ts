import type { PromptPart } from './providers/structured-calls';

/**
 * Token estimates for prompts, made before a call so the budget can reserve its worst-case cost.
 *
 * Counts use the o200k_base encoding, the one GPT-4o and every later OpenAI model uses (the gpt-5.x and
 * gpt-6.x families are assumed to keep it). Its rank table is about 2.4 MB of JavaScript and takes some
 * 400 ms to parse, so it is loaded on first use ({@link loadTokenCounter}): an isolate that only serves
 * cache hits never pays for it. Importing the per-encoding entry point keeps the other encodings out of
 * the bundle. Every estimate errs high, since a reservation that is too small lets a request overspend.
 */

/** Tokens each message adds around its content (role and separators); OpenAI's cookbook counts 3. */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** Tokens that prime the assistant's reply, once per request (OpenAI's cookbook). */
export const REPLY_PRIMING_TOKENS = 3;
/**
 * Allowance per input image at `detail: 'auto'`, which the model may treat as high detail. 2,500 covers
 * the largest documented high-detail counts of the models we price: 1,536 patches × 1.62 for gpt-4.1-mini
 * (2,489) and 85 + 8 tiles × 170 for gpt-4o (1,445), from OpenAI's vision guide as third-party copies
 * quote it (not in shared/reference). Low detail costs 85, which is what the simulator counts per image.
 */
export const IMAGE_INPUT_TOKENS = 2_500;
/** Proportional margin on counted text, for tokenizer drift between model generations. */
export const SAFETY_MARGIN_PERCENT = 10;
/** Fixed margin per request, for framing the API adds that no published formula covers. */
export const SAFETY_MARGIN_TOKENS = 16;

// Text that spells a special token ('<|endoftext|>') is user content: count it as plain text rather than
// letting the tokenizer throw.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** What a request sends the model; the same shape `generateStructured` takes. */
export interface PromptEstimateInput {
  /** The system/developer prompt, sent as its own message. */
  instructions?: string;
  /** The user's turn: text, or text and images. */
  input: string | PromptPart[];
  /**
   * The JSON Schema sent for structured output (object or its JSON text). The model reads it as part of
   * the prompt and the simulator bills it as input, so it is counted.
   */
  schema?: object | string;
}

/** Counts tokens the way the models do; what {@link loadTokenCounter} resolves to. */
export interface TokenCounter {
  /** Exact o200k_base token count of `text`; 0 for the empty string. */
  countTextTokens(text: string): number;
  /**
   * Input tokens a request may be billed, rounded up: counted text plus per-message overhead, grown by
   * {@link SAFETY_MARGIN_PERCENT} % and {@link SAFETY_MARGIN_TOKENS}, plus {@link IMAGE_INPUT_TOKENS} per
   * image. An image's URL is not counted: the image is billed as image tokens, not as its URL's text.
   * @example estimateInputTokens({ input: 'hello world' }) // 2 + 4 + 3 = 9, + ceil(0.9) + 16 = 26
   */
  estimateInputTokens(prompt: PromptEstimateInput): number;
  /**
   * The same counts, remembering longer texts (a system prompt, a tool schema) for `tenant` alone: see
   * {@link rememberingPerTenant}. For a request whose caller is known (the proxy's key).
   */
  forTenant(tenant: string): TokenCounter;
}

/** Loads the o200k encoding and counts with it: one counter per isolate (a failed load is tried again). */
export function loadTokenCounter(): Promise<TokenCounter> {
  loaded ??= load().catch((err: unknown) => {
    loaded = undefined;
    throw err;
  });
  return loaded;
}

let loaded: Promise<TokenCounter> | undefined;

/**
 * Texts this short (a role, a name) come with nearly every message: their counts are remembered, up to
 * SHORT_TEXTS of them, for everyone; what remembering one saves, microseconds, no client can time. A
 * longer text remembered for everyone (a system prompt, up to a millisecond to count) would answer
 * measurably faster for whoever sends it next, in any tenant, and so tell them it was sent: longer texts
 * are remembered per tenant ({@link TokenCounter.forTenant}), or counted each time.
 */
const SHORT_TEXT_CHARS = 16;
const SHORT_TEXTS = 1024;

/** How much the per-tenant memory holds, over all tenants: texts, and their characters in all. */
const TENANT_TEXTS = 4096;
const TENANT_TEXT_CHARS = 1_000_000;

async function load(): Promise<TokenCounter> {
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
  const short = new Map<string, number>();
  const count = (text: string) => countTokens(text, PLAIN_TEXT);
  const countTextTokens = (text: string) => {
    if (!text) return 0;
    if (text.length > SHORT_TEXT_CHARS) return count(text);
    let counted = short.get(text);
    if (counted === undefined) {
      counted = count(text);
      if (short.size < SHORT_TEXTS) short.set(text, counted);
    }
    return counted;
  };
  const perTenant = rememberingPerTenant(count, { texts: TENANT_TEXTS, chars: TENANT_TEXT_CHARS });
  const counterOf = (countText: (text: string) => number): Omit<TokenCounter, 'forTenant'> => ({
    countTextTokens: countText,
    estimateInputTokens: (prompt) => estimateWith(countText, prompt),
  });
  const forTenant = (tenant: string): TokenCounter => ({
    ...counterOf((text) =>
      text.length > SHORT_TEXT_CHARS ? perTenant(tenant, text) : countTextTokens(text),
    ),
    forTenant,
  });
  return { ...counterOf(countTextTokens), forTenant };
}

/**
 * `count`, remembering each tenant's texts apart: a proxied call sends the same system prompt (and
 * tool schemas) with every call, and counting 6,800 characters took 0.38 ms, half the floor Worker's
 * whole request. Only the tenant that sent a text finds it remembered, so a faster answer tells nobody
 * else anything. Bounded over all tenants, in texts and in characters (a text longer than the whole
 * budget is counted and not kept); the oldest is dropped first. The texts are held as the requests that
 * carried them were: nothing outside the isolate reads its memory.
 */
export function rememberingPerTenant(
  count: (text: string) => number,
  limits: { texts: number; chars: number },
): (tenant: string, text: string) => number {
  const byTenant = new Map<string, Map<string, number>>();
  // Oldest first; `head` is the oldest still held (the array is compacted as it is consumed).
  let order: { tenant: string; text: string }[] = [];
  let head = 0;
  let chars = 0;
  const dropOldest = () => {
    const oldest = order[head];
    head += 1;
    if (!oldest) return;
    const texts = byTenant.get(oldest.tenant);
    if (texts?.delete(oldest.text)) chars -= oldest.text.length;
    if (texts?.size === 0) byTenant.delete(oldest.tenant);
    if (head > 1024 && head * 2 > order.length) {
      order = order.slice(head);
      head = 0;
    }
  };
  return (tenant, text) => {
    const known = byTenant.get(tenant)?.get(text);
    if (known !== undefined) return known;
    const counted = count(text);
    if (text.length > limits.chars) return counted;
    while (order.length - head >= limits.texts || chars + text.length > limits.chars) dropOldest();
    // Looked up after the drops: one of them may have emptied, and removed, this tenant's own.
    let texts = byTenant.get(tenant);
    if (!texts) {
      texts = new Map();
      byTenant.set(tenant, texts);
    }
    texts.set(text, counted);
    order.push({ tenant, text });
    chars += text.length;
    return counted;
  };
}

function estimateWith(countTextTokens: (text: string) => number, prompt: PromptEstimateInput): number {
  const parts: PromptPart[] =
    typeof prompt.input === 'string' ? [{ type: 'text', text: prompt.input }] : prompt.input;
  let textTokens = MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS;
  let images = 0;
  for (const part of parts) {
    if (part.type === 'image') images += 1;
    else textTokens += countTextTokens(part.text);
  }
  if (prompt.instructions !== undefined) {
    textTokens += MESSAGE_OVERHEAD_TOKENS + countTextTokens(prompt.instructions);
  }
  if (prompt.schema !== undefined) {
    const schema = typeof prompt.schema === 'string' ? prompt.schema : JSON.stringify(prompt.schema);
    textTokens += countTextTokens(schema);
  }
  const margin = Math.ceil((textTokens * SAFETY_MARGIN_PERCENT) / 100) + SAFETY_MARGIN_TOKENS;
  return textTokens + margin + images * IMAGE_INPUT_TOKENS;
}
