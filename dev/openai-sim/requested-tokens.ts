import { imageOutputTokens } from './images.ts';
import { promptText } from './input-text.ts';
import { isRecord } from './parse-result.ts';
import { estimateTokens, IMAGE_INPUT_TOKENS } from './tokens.ts';

/**
 * What a request counts against its tokens-per-minute limit, known before anything is generated: the input
 * estimate (the simulator's own, as its usage reports it) plus the output the request asks for at most.
 * OpenAI's guide: "Your rate limit is calculated as the maximum of max_tokens and the estimated number of
 * tokens based on the character count of your request." The simulator counts the sum, the costly reading,
 * so a client that fits here fits there; a request without an output cap counts its input only, as that
 * rule does. Images count their output tokens, which size, quality and `n` fix in advance.
 *
 * The bodies are read leniently: a malformed one still counts something and gets its 400 from its route.
 */
type Body = Record<string, unknown>;

/** Token estimates of the endpoints that are rate limited (model calls), by endpoint. */
const REQUESTED_TOKENS: Record<string, (body: Body) => number> = {
  '/v1/responses': (body) => {
    const format = isRecord(body.text) ? body.text.format : undefined;
    return (
      textInput(promptText(body.input, body.instructions), schemaOf(format)) + cap(body.max_output_tokens)
    );
  },
  '/v1/chat/completions': (body) => {
    const format = isRecord(body.response_format) ? body.response_format.json_schema : undefined;
    return (
      textInput(promptText(body.messages), schemaOf(format)) +
      cap(body.max_completion_tokens ?? body.max_tokens) * countOf(body.n)
    );
  },
  '/v1/embeddings': (body) => sumOf(listOf(body.input), textTokens),
  '/v1/moderations': (body) => sumOf(listOf(body.input), moderationTokens),
  '/v1/images/generations': (body) => {
    const [, width = '1024', height = '1024'] = /^(\d+)x(\d+)$/.exec(String(body.size)) ?? [];
    const quality = typeof body.quality === 'string' && body.quality !== 'auto' ? body.quality : 'medium';
    const perImage = imageOutputTokens(quality, Number(width), Number(height));
    return textTokens(body.prompt) + perImage * countOf(body.n);
  },
};

/** Whether `endpoint` is a model call, and so rate limited. */
export function isRateLimited(endpoint: string): boolean {
  return endpoint in REQUESTED_TOKENS;
}

/** The tokens a request to `endpoint` counts against TPM (0 for an endpoint that is not rate limited). */
export function requestedTokens(endpoint: string, body: Body): number {
  return REQUESTED_TOKENS[endpoint]?.(body) ?? 0;
}

function textInput(prompt: ReturnType<typeof promptText>, schema: unknown): number {
  const schemaText = schema === undefined ? '' : JSON.stringify(schema);
  return (
    estimateTokens(prompt.systemText + prompt.userText + schemaText) + prompt.imageCount * IMAGE_INPUT_TOKENS
  );
}

function schemaOf(format: unknown): unknown {
  return isRecord(format) ? format.schema : undefined;
}

function cap(value: unknown): number {
  return Number.isInteger(value) && (value as number) > 0 ? (value as number) : 0;
}

/** `n` (choices, images) when it is a positive integer, else 1. */
function countOf(n: unknown): number {
  return cap(n) || 1;
}

function listOf(input: unknown): unknown[] {
  if (input === undefined) return [];
  // A single token array is one input, not many.
  if (Array.isArray(input) && !input.every((item) => typeof item === 'number')) return input;
  return [input];
}

function sumOf(items: unknown[], tokensOf: (item: unknown) => number): number {
  return items.reduce<number>((sum, item) => sum + tokensOf(item), 0);
}

function textTokens(input: unknown): number {
  if (input === undefined || input === '') return 0;
  return estimateTokens(typeof input === 'string' ? input : JSON.stringify(input));
}

function moderationTokens(item: unknown): number {
  if (isRecord(item)) return item.type === 'text' ? textTokens(item.text) : 0;
  return textTokens(item);
}
