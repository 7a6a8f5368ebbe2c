import { isRecord } from './config.ts';
import { invalidParam, missingParam } from './errors.ts';
import { type Completion, generateCompletion, type OutputFormat, parseJsonSchemaFormat } from './generate.ts';
import { promptText } from './input-text.ts';
import { responseStreamFrames } from './responses-stream.ts';
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
  const maxOutputTokens = parseMaxOutputTokens(body.max_output_tokens);
  const format = parseTextFormat(body.text);
  const prompt = promptText(body.input, body.instructions);
  const completion = generateCompletion({
    model: body.model,
    ...prompt,
    format,
    maxOutputTokens,
    contentFault: ctx.contentFault,
  });
  const response = buildResponse(body, format, completion, ctx);
  const tokens = completion.inputTokens + completion.outputTokens;
  if (body.stream === true) return { kind: 'sse', frames: responseStreamFrames(response), tokens };
  return { kind: 'json', body: response, tokens };
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

/** The full Response object, with every top-level field the SDK's `Response` type declares. */
function buildResponse(
  body: Record<string, unknown>,
  format: OutputFormat,
  completion: Completion,
  ctx: RouteContext,
): Record<string, unknown> {
  const status = completion.truncated ? 'incomplete' : 'completed';
  const content =
    completion.kind === 'refusal'
      ? { type: 'refusal', refusal: completion.text }
      : { type: 'output_text', text: completion.text, annotations: [], logprobs: [] };
  const message = { id: ctx.newId('msg_'), type: 'message', role: 'assistant', status, content: [content] };
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
    output: [message],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    reasoning: { effort: null, summary: null },
    safety_identifier: body.safety_identifier ?? null,
    service_tier: 'default',
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
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: completion.outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: completion.inputTokens + completion.outputTokens,
    },
    user: body.user ?? null,
    metadata: body.metadata ?? {},
    access_programs: null,
  };
}
