import { builtInTools, servedTier } from './billed-fields.ts';
import { isRecord } from './config.ts';
import { invalidParam, missingParam } from './errors.ts';
import { type Completion, generateCompletion, type OutputFormat, parseJsonSchemaFormat } from './generate.ts';
import { promptText } from './input-text.ts';
import type { Meter } from './meter.ts';
import type { CacheUse } from './prompt-cache.ts';
import { responsesPrompt } from './prompt-sequence.ts';
import { DEFAULT_EFFORT, isReasoningModel, parseEffort, reasoningFor } from './reasoning.ts';
import { responseStreamFrames } from './responses-stream.ts';
import { hashOf } from './rng.ts';
import { exactPath, type RouteContext, type RouteResult, type SimRoute } from './routes.ts';

/** Below this the real API rejects `max_output_tokens`. */
const MIN_OUTPUT_TOKENS = 16;

/** `POST /v1/responses`: the Responses API, with structured outputs and SSE streaming. */
export const responsesRoute: SimRoute = {
  method: 'POST',
  endpoint: '/v1/responses',
  matches: exactPath('/v1/responses'),
  supportsFault: (kind, body) =>
    kind === 'refusal' || (kind === 'schema_violation' && formatType(body) === 'json_schema'),
  handle: handleResponses,
};

function handleResponses(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  if (typeof body.model !== 'string' || !body.model) throw missingParam('model');
  if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input)) {
    throw invalidParam('input', "Invalid 'input': expected a string or an array of input items.");
  }
  const model = body.model;
  const maxOutputTokens = parseMaxOutputTokens(body.max_output_tokens);
  const format = parseTextFormat(body.text);
  const effort = parseEffort(
    isRecord(body.reasoning) ? body.reasoning.effort : undefined,
    'reasoning.effort',
    model,
  );
  const serviceTier = servedTier(body.service_tier);
  const prompt = promptText(body.input, body.instructions);
  const seed = hashOf(model, prompt.systemText, prompt.userText, format);
  const completion = generateCompletion({
    model,
    ...prompt,
    format,
    maxOutputTokens,
    contentFault: ctx.contentFault,
    reasoningTokens: reasoningFor(ctx, model, effort, seed),
  });
  const cache = ctx.promptCache(responsesPrompt(body), completion.inputTokens);
  const reasoning = { effort: ctx.realistic && isReasoningModel(model) ? (effort ?? DEFAULT_EFFORT) : null };
  const response = buildResponse(body, format, completion, ctx, { cache, serviceTier, ...reasoning });
  const meter: Meter = {
    usage: {
      model,
      inputTokens: completion.inputTokens,
      cachedInputTokens: cache.cachedTokens,
      cacheWriteTokens: cache.cacheWriteTokens,
      outputTokens: completion.outputTokens,
      reasoningTokens: completion.reasoningTokens,
      images: 0,
      tools: builtInTools(body.tools),
      serviceTier,
    },
    work: { kind: 'text', seed, inputTokens: completion.inputTokens, outputTokens: completion.outputTokens },
  };
  if (body.stream === true) {
    const { frames, frameTokens } = responseStreamFrames(response);
    return { kind: 'sse', frames, meter: { ...meter, frameTokens } };
  }
  return { kind: 'json', body: response, meter };
}

function parseMaxOutputTokens(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < MIN_OUTPUT_TOKENS) {
    throw invalidParam(
      'max_output_tokens',
      `Invalid 'max_output_tokens': integer below minimum value. ` +
        `Expected a value >= ${MIN_OUTPUT_TOKENS}, but got ${JSON.stringify(value)} instead.`,
    );
  }
  return value as number;
}

function formatType(body: Record<string, unknown>): unknown {
  return isRecord(body.text) && isRecord(body.text.format) ? body.text.format.type : undefined;
}

function parseTextFormat(text: unknown): OutputFormat {
  const format = isRecord(text) ? text.format : undefined;
  if (format === undefined || format === null) return { type: 'text' };
  if (!isRecord(format)) throw invalidParam('text.format');
  if (format.type === 'json_schema') return parseJsonSchemaFormat(format, 'text.format');
  if (format.type === 'json_object' || format.type === 'text') return { type: format.type };
  throw invalidParam(
    'text.format.type',
    `Invalid value for 'text.format.type': ${JSON.stringify(format.type)}.`,
  );
}

/** What the Response reports beyond the generated text. */
interface ResponseExtras {
  cache: CacheUse;
  serviceTier: string;
  /** The effort a reasoning model used (realistic profile); null otherwise. */
  effort: string | null;
}

/**
 * The full Response object, with every top-level field the SDK's `Response` type declares. A reasoning model
 * (realistic profile) puts a reasoning item before the message; when reasoning used the whole
 * `max_output_tokens` there is no message at all.
 */
function buildResponse(
  body: Record<string, unknown>,
  format: OutputFormat,
  completion: Completion,
  ctx: RouteContext,
  extras: ResponseExtras,
): Record<string, unknown> {
  const status = completion.truncated ? 'incomplete' : 'completed';
  const output: Record<string, unknown>[] = [];
  if (completion.reasoningTokens > 0) output.push({ id: ctx.newId('rs_'), type: 'reasoning', summary: [] });
  if (!completion.reasoningOnly) {
    const content =
      completion.kind === 'refusal'
        ? { type: 'refusal', refusal: completion.text }
        : { type: 'output_text', text: completion.text, annotations: [], logprobs: [] };
    output.push({ id: ctx.newId('msg_'), type: 'message', role: 'assistant', status, content: [content] });
  }
  return {
    id: ctx.newId('resp_'),
    object: 'response',
    created_at: ctx.nowSeconds,
    status,
    background: false,
    completed_at: completion.truncated ? null : ctx.nowSeconds,
    error: null,
    incomplete_details: completion.truncated ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: body.max_tool_calls ?? null,
    model: body.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    reasoning: { effort: extras.effort, summary: null },
    safety_identifier: body.safety_identifier ?? null,
    service_tier: extras.serviceTier,
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: {
      format: isRecord(body.text) && isRecord(body.text.format) ? body.text.format : format,
      verbosity: 'medium',
    },
    tool_choice: body.tool_choice ?? 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_logprobs: body.top_logprobs ?? 0,
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage: {
      input_tokens: completion.inputTokens,
      input_tokens_details: {
        cached_tokens: extras.cache.cachedTokens,
        cache_write_tokens: extras.cache.cacheWriteTokens,
      },
      output_tokens: completion.outputTokens,
      output_tokens_details: { reasoning_tokens: completion.reasoningTokens },
      total_tokens: completion.inputTokens + completion.outputTokens,
    },
    user: body.user ?? null,
    metadata: body.metadata ?? {},
    access_programs: null,
  };
}
