/**
 * Request bodies of the OpenAI-compatible proxy. The top level is an allow-list (lib/proxy/allow-list.ts):
 * a field the gateway cannot price is refused, never passed through. Inside the fields it allows, the
 * schemas check what pricing and routing need (the model, the prompt's size, the output cap, `n`, the
 * image size) and refuse unpriced tools and content parts; the rest of a message or tool is forwarded
 * as sent.
 */
import { z } from 'zod';
import { allowOnly, refused, refuseUnpricedParts, ServiceTier, Tool } from './allow-list';
import { IMAGE_EDGE, IMAGE_PIXELS, IMAGES_PER_REQUEST } from './image-limits';

/** Bounds on what one proxied request may carry (the body itself is bounded by MAX_BODY_BYTES). */
export const PROXY_LIMITS = {
  /** Chat messages, or Responses input items, per request. */
  messages: 1000,
  /** Characters of one text (a message's content, a prompt, one embedding input). */
  textChars: 500_000,
  /** Chat choices per request: each multiplies the output the budget must reserve. */
  choices: 8,
  /** Images per request (OpenAI's own limit). */
  images: IMAGES_PER_REQUEST,
  /** Characters of an image prompt (OpenAI's own limit). */
  imagePromptChars: 32_000,
  /** Inputs of one embeddings or moderations request (OpenAI's embeddings limit). */
  inputs: 2048,
  /** Largest image edge, and largest pixel count (3840×2160), of a generated image. */
  imageEdge: IMAGE_EDGE,
  imagePixels: IMAGE_PIXELS,
} as const;

/** A model id as a request names it. */
export const Model = z.string().trim().min(1).max(256);
const Text = z.string().max(PROXY_LIMITS.textChars);
/** An output cap; its upper bound (PROXY_MAX_OUTPUT_TOKENS) is configured, so it is checked when pricing. */
const TokenCap = z.number().int().min(1);
const Temperature = z.number().min(0).max(2);

/** A field the gateway cannot price, so it refuses it rather than guess (`why` ends the message). */
const unsupported = (why: string) => refused(why).optional();

/** Fields both text APIs share that cost nothing beyond the tokens counted (or cap what is billed). */
const SHARED_TEXT_FIELDS = {
  model: Model,
  temperature: Temperature.nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  tools: z.array(Tool).max(128).nullish(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  user: z.string().max(256).nullish(),
  safety_identifier: z.string().max(256).nullish(),
  prompt_cache_key: z.string().max(1024).nullish(),
  service_tier: ServiceTier.nullish(),
  // Whether the provider keeps the answer: checked against PROXY_ALLOW_STORE by the endpoint.
  store: z.boolean().nullish(),
};

const ChatMessage = z.looseObject({
  role: z.string().min(1).max(64),
  content: z
    .union([Text, z.array(z.looseObject({ type: z.string().min(1) })).max(PROXY_LIMITS.messages)])
    .nullish(),
});

export const ChatCompletionRequest = allowOnly({
  ...SHARED_TEXT_FIELDS,
  messages: z
    .array(ChatMessage)
    .min(1)
    .max(PROXY_LIMITS.messages)
    .superRefine((messages, ctx) => refuseUnpricedParts(messages, ctx)),
  max_tokens: TokenCap.nullish(),
  max_completion_tokens: TokenCap.nullish(),
  n: z.number().int().min(1).max(PROXY_LIMITS.choices).nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  logprobs: z.boolean().nullish(),
  seed: z.number().int().nullish(),
  response_format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) }).nullish(),
  functions: z
    .array(z.looseObject({ name: z.string() }))
    .max(128)
    .nullish(),
  function_call: z.unknown().optional(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
  verbosity: z.enum(['low', 'medium', 'high']).nullish(),
  modalities: z
    .array(z.literal('text', { error: 'is not supported through the gateway: audio output is not priced' }))
    .nullish(),
  audio: unsupported('audio output is not priced'),
  prediction: unsupported('rejected prediction tokens are billed beyond the output cap it reserves'),
  web_search_options: unsupported('web search has per-call fees it does not price'),
}).superRefine((request, ctx) => {
  if (typeof request.max_tokens === 'number' && typeof request.max_completion_tokens === 'number') {
    ctx.addIssue({
      code: 'custom',
      path: ['max_tokens'],
      message:
        'is not supported through the gateway together with max_completion_tokens: send one output cap',
    });
  }
});
export type ChatCompletionRequest = z.output<typeof ChatCompletionRequest>;

const SERVER_STATE = 'the input it adds cannot be priced before the call; send the conversation in `input`';

export const ResponsesRequest = allowOnly({
  ...SHARED_TEXT_FIELDS,
  input: z
    .union([Text, z.array(z.looseObject({})).min(1).max(PROXY_LIMITS.messages)])
    .superRefine((input, ctx) => refuseUnpricedParts(input, ctx)),
  instructions: Text.nullish(),
  max_output_tokens: TokenCap.nullish(),
  stream_options: z.looseObject({}).nullish(),
  text: z.looseObject({}).nullish(),
  reasoning: allowOnly({
    effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
    summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
  }).nullish(),
  include: z.array(z.enum(['reasoning.encrypted_content', 'message.output_text.logprobs'])).nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  max_tool_calls: z.number().int().min(1).nullish(),
  previous_response_id: unsupported(SERVER_STATE),
  conversation: unsupported(SERVER_STATE),
  prompt: unsupported('a stored prompt cannot be priced before the call'),
  background: z
    .literal(false, { error: 'is not supported through the gateway: its usage arrives after the call' })
    .nullish(),
});
export type ResponsesRequest = z.output<typeof ResponsesRequest>;

const TokenIds = z.array(z.number().int().min(0)).min(1).max(PROXY_LIMITS.textChars);

export const EmbeddingsRequest = allowOnly({
  model: Model,
  dimensions: z.number().int().min(1).max(3072).nullish(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  user: z.string().max(256).nullish(),
  input: z.union([
    Text.min(1),
    z.array(Text.min(1)).min(1).max(PROXY_LIMITS.inputs),
    TokenIds,
    z.array(TokenIds).min(1).max(PROXY_LIMITS.inputs),
  ]),
});
export type EmbeddingsRequest = z.output<typeof EmbeddingsRequest>;

export const ModerationsRequest = allowOnly({
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
