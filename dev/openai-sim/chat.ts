import { servedTier } from './billed-fields.ts';
import { isRecord } from './config.ts';
import { invalidParam, missingParam } from './errors.ts';
import { type Completion, generateCompletion, type OutputFormat, parseJsonSchemaFormat } from './generate.ts';
import { sseData } from './http.ts';
import { promptText } from './input-text.ts';
import { type FrameTokens, type Meter, type StreamFrames, spreadTokens } from './meter.ts';
import { schemaFromPrompt } from './prompt-schema.ts';
import { chatPrompt } from './prompt-sequence.ts';
import { parseEffort, reasoningFor } from './reasoning.ts';
import { hashOf } from './rng.ts';
import { exactPath, type RouteContext, type RouteResult, type SimRoute } from './routes.ts';
import { chunkText } from './text.ts';

/**
 * `POST /v1/chat/completions`, with `response_format` structured outputs, `n` choices and SSE streaming.
 * Without a `response_format` (or with `{ type: 'text' }`), a system or developer message that asks for JSON
 * `valid against this JSON Schema:` followed by a schema gets JSON following it (see prompt-schema.ts).
 */
export const chatRoute: SimRoute = {
  method: 'POST',
  endpoint: '/v1/chat/completions',
  matches: exactPath('/v1/chat/completions'),
  supportsFault: (kind, body) =>
    kind === 'refusal' ||
    (kind === 'schema_violation' &&
      ((isRecord(body.response_format) && body.response_format.type === 'json_schema') ||
        promptSchemaOf(body) !== undefined)),
  handle: handleChat,
};

type Json = Record<string, unknown>;

function handleChat(body: Json, ctx: RouteContext): RouteResult {
  if (typeof body.model !== 'string' || !body.model) throw missingParam('model');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw missingParam('messages');
  const model = body.model;
  const promptSchema = promptSchemaOf(body);
  const format: OutputFormat = promptSchema
    ? { type: 'prompt_schema', schema: promptSchema }
    : parseResponseFormat(body.response_format);
  const maxOutputTokens = parsePositiveInt(
    body.max_completion_tokens ?? body.max_tokens,
    'max_completion_tokens',
  );
  const n = parsePositiveInt(body.n, 'n') ?? 1;
  const effort = parseEffort(body.reasoning_effort, 'reasoning_effort', model);
  const serviceTier = servedTier(body.service_tier);
  const prompt = promptText(body.messages);
  const seed = hashOf(model, prompt.systemText, prompt.userText, format);
  const completions = Array.from({ length: n }, (_, variant) =>
    generateCompletion({
      model,
      ...prompt,
      format,
      maxOutputTokens,
      contentFault: ctx.contentFault,
      variant,
      reasoningTokens: reasoningFor(ctx, model, effort, `${seed}:${variant}`),
    }),
  );
  const promptTokens = completions[0]?.inputTokens ?? 0;
  const cache = ctx.promptCache(chatPrompt(body), promptTokens);
  const completionTokens = sum(completions, (c) => c.outputTokens);
  const reasoningTokens = sum(completions, (c) => c.reasoningTokens);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: {
      cached_tokens: cache.cachedTokens,
      cache_write_tokens: cache.cacheWriteTokens,
      audio_tokens: 0,
    },
    completion_tokens_details: {
      reasoning_tokens: reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const base = {
    id: ctx.newId('chatcmpl-'),
    created: ctx.nowSeconds,
    model,
    service_tier: serviceTier,
    system_fingerprint: `fp_${hashOf(model).slice(0, 10)}`,
  };
  const meter: Meter = {
    usage: {
      model,
      inputTokens: promptTokens,
      cachedInputTokens: cache.cachedTokens,
      cacheWriteTokens: cache.cacheWriteTokens,
      outputTokens: completionTokens,
      reasoningTokens,
      images: 0,
      tools: [],
      serviceTier,
    },
    // The n choices are generated side by side: the longest one sets the time.
    work: {
      kind: 'text',
      seed,
      inputTokens: promptTokens,
      outputTokens: Math.max(...completions.map((c) => c.outputTokens)),
    },
  };
  if (body.stream === true) {
    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    const { frames, frameTokens } = chunkFrames(base, completions, includeUsage ? usage : undefined);
    return { kind: 'sse', frames, meter: { ...meter, frameTokens } };
  }
  const choices = completions.map((completion, index) => ({
    index,
    message: messageOf(completion),
    logprobs: null,
    finish_reason: completion.truncated ? 'length' : 'stop',
  }));
  return { kind: 'json', body: { ...base, object: 'chat.completion', choices, usage }, meter };
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}

function messageOf(completion: Completion): Json {
  const refused = completion.kind === 'refusal';
  return {
    role: 'assistant',
    content: refused ? null : completion.text,
    refusal: refused ? completion.text : null,
    annotations: [],
  };
}

/**
 * `chat.completion.chunk` frames: a role chunk (which waits for the choice's reasoning), content (or refusal)
 * deltas, a finish chunk per choice, an optional usage chunk with empty `choices`, then `[DONE]`. With usage
 * requested, other chunks carry `usage: null`.
 */
function chunkFrames(base: Json, completions: Completion[], usage?: Json): StreamFrames {
  const chunk = (choices: Json[], extra: Json = {}) =>
    sseData({
      ...base,
      object: 'chat.completion.chunk',
      choices,
      ...(usage ? { usage: null } : {}),
      ...extra,
    });
  const choice = (index: number, delta: Json, finishReason: string | null = null) => ({
    index,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });
  const frames: string[] = [];
  const frameTokens: FrameTokens[] = [];
  const push = (frame: string, reasoning = 0, visible = 0) => {
    frames.push(frame);
    frameTokens.push({ reasoning, visible });
  };
  completions.forEach((completion, index) => {
    const field = completion.kind === 'refusal' ? 'refusal' : 'content';
    const role = { role: 'assistant', content: field === 'content' ? '' : null, refusal: null };
    push(chunk([choice(index, role)]), completion.reasoningTokens);
    const pieces = chunkText(completion.text);
    const shares = spreadTokens(pieces, completion.outputTokens - completion.reasoningTokens);
    pieces.forEach((piece, i) => {
      push(chunk([choice(index, { [field]: piece })]), 0, shares[i] ?? 0);
    });
    push(chunk([choice(index, {}, completion.truncated ? 'length' : 'stop')]));
  });
  if (usage) push(chunk([], { usage }));
  push(sseData('[DONE]'));
  return { frames, frameTokens };
}

/**
 * The schema a system/developer message asks the reply to follow, when no `response_format` asks for another
 * format. Not checked against strict-mode rules: a prompt is free text, and a model just follows it.
 */
function promptSchemaOf(body: Json): Json | undefined {
  const format = body.response_format;
  const textOnly = format === undefined || format === null || (isRecord(format) && format.type === 'text');
  return textOnly ? schemaFromPrompt(promptText(body.messages).systemText) : undefined;
}

function parseResponseFormat(value: unknown): OutputFormat {
  if (value === undefined || value === null) return { type: 'text' };
  if (!isRecord(value)) throw invalidParam('response_format');
  if (value.type === 'json_schema') {
    if (!isRecord(value.json_schema)) throw missingParam('response_format.json_schema');
    return parseJsonSchemaFormat(value.json_schema, 'response_format.json_schema');
  }
  if (value.type === 'json_object' || value.type === 'text') return { type: value.type };
  throw invalidParam(
    'response_format.type',
    `Invalid value for 'response_format.type': ${JSON.stringify(value.type)}.`,
  );
}

function parsePositiveInt(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1)
    throw invalidParam(param, `Invalid '${param}': expected a positive integer.`);
  return value as number;
}
