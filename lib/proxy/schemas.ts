/**
 * Request bodies of the OpenAI-compatible proxy, validated only as far as pricing and routing need:
 * the model, the prompt's size, the output caps, `n`, the image size. Every object is loose, so fields
 * the gateway does not know (and future OpenAI fields) pass through unchanged.
 */
import { z } from 'zod';

/** Bounds on what one proxied request may carry (the body itself is bounded by MAX_BODY_BYTES). */
export const PROXY_LIMITS = {
  /** Chat messages, or Responses input items, per request. */
  messages: 1000,
  /** Characters of one text (a message's content, a prompt, one embedding input). */
  textChars: 500_000,
  /** Chat choices per request: each multiplies the output the budget must reserve. */
  choices: 8,
  /** Images per request (OpenAI's own limit). */
  images: 10,
  /** Characters of an image prompt (OpenAI's own limit). */
  imagePromptChars: 32_000,
  /** Inputs of one embeddings or moderations request (OpenAI's embeddings limit). */
  inputs: 2048,
  /** Largest image edge, and largest pixel count (3840×2160), of a generated image. */
  imageEdge: 3840,
  imagePixels: 3840 * 2160,
} as const;

const Model = z.string().trim().min(1).max(256);
const Text = z.string().max(PROXY_LIMITS.textChars);
/** An output cap; its upper bound (PROXY_MAX_OUTPUT_TOKENS) is configured, so it is checked when pricing. */
const TokenCap = z.number().int().min(1);
const Temperature = z.number().min(0).max(2);

/** A field the gateway cannot price, so it refuses it rather than guess (`why` ends the message). */
const unsupported = (why: string) =>
  z.null({ error: `is not supported through the gateway: ${why}` }).optional();

const ChatMessage = z.looseObject({
  role: z.string().min(1).max(64),
  content: z
    .union([Text, z.array(z.looseObject({ type: z.string().min(1) })).max(PROXY_LIMITS.messages)])
    .nullish(),
});

export const ChatCompletionRequest = z.looseObject({
  model: Model,
  messages: z.array(ChatMessage).min(1).max(PROXY_LIMITS.messages),
  max_tokens: TokenCap.nullish(),
  max_completion_tokens: TokenCap.nullish(),
  n: z.number().int().min(1).max(PROXY_LIMITS.choices).nullish(),
  temperature: Temperature.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});
export type ChatCompletionRequest = z.output<typeof ChatCompletionRequest>;

const SERVER_STATE = 'the input it adds cannot be priced before the call; send the conversation in `input`';

export const ResponsesRequest = z.looseObject({
  model: Model,
  input: z.union([Text, z.array(z.looseObject({})).min(1).max(PROXY_LIMITS.messages)]),
  instructions: Text.nullish(),
  max_output_tokens: TokenCap.nullish(),
  temperature: Temperature.nullish(),
  stream: z.boolean().nullish(),
  previous_response_id: unsupported(SERVER_STATE),
  conversation: unsupported(SERVER_STATE),
  prompt: unsupported('a stored prompt cannot be priced before the call'),
  background: z
    .literal(false, { error: 'is not supported through the gateway: its usage arrives after the call' })
    .nullish(),
});
export type ResponsesRequest = z.output<typeof ResponsesRequest>;

const TokenIds = z.array(z.number().int().min(0)).min(1).max(PROXY_LIMITS.textChars);

export const EmbeddingsRequest = z.looseObject({
  model: Model,
  input: z.union([
    Text.min(1),
    z.array(Text.min(1)).min(1).max(PROXY_LIMITS.inputs),
    TokenIds,
    z.array(TokenIds).min(1).max(PROXY_LIMITS.inputs),
  ]),
});
export type EmbeddingsRequest = z.output<typeof EmbeddingsRequest>;

export const ModerationsRequest = z.looseObject({
  model: Model.optional(),
  input: z.union([
    Text,
    z.array(Text).min(1).max(PROXY_LIMITS.inputs),
    z
      .array(z.looseObject({ type: z.enum(['text', 'image_url']) }))
      .min(1)
      .max(PROXY_LIMITS.inputs),
  ]),
});
export type ModerationsRequest = z.output<typeof ModerationsRequest>;

/** `auto`, or WIDTHxHEIGHT in multiples of 16, at most 3840 a side and 3840×2160 in all, between 1:3 and 3:1. */
export const ImageSize = z.string().refine((size) => {
  if (size === 'auto') return true;
  const match = /^(\d{2,4})x(\d{2,4})$/.exec(size);
  if (!match) return false;
  const [w, h] = [Number(match[1]), Number(match[2])];
  return (
    w % 16 === 0 &&
    h % 16 === 0 &&
    Math.max(w, h) <= PROXY_LIMITS.imageEdge &&
    w * h <= PROXY_LIMITS.imagePixels &&
    Math.max(w, h) <= 3 * Math.min(w, h)
  );
}, 'must be auto or WIDTHxHEIGHT: multiples of 16, at most 3840 a side and 3840x2160 in all, between 1:3 and 3:1');

export const ImagesRequest = z.looseObject({
  model: Model.optional(),
  prompt: z.string().min(1).max(PROXY_LIMITS.imagePromptChars),
  n: z.number().int().min(1).max(PROXY_LIMITS.images).nullish(),
  size: ImageSize.nullish(),
  // Only the qualities the price table has token counts for ('auto' is priced as 'high').
  quality: z.enum(['low', 'medium', 'high', 'auto']).nullish(),
  stream: z
    .literal(false, { error: 'is not supported through the gateway: partial images are not relayed' })
    .nullish(),
});
export type ImagesRequest = z.output<typeof ImagesRequest>;
