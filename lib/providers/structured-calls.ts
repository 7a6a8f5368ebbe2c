import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { ResponseInputContent, ResponseInputItem } from 'openai/resources/responses/responses';
import { z } from 'zod';
import {
  DEFAULT_REASONING_EFFORT,
  isReasoningModel,
  outputCap,
  type ReasoningEffort,
  reasoningParam,
} from './reasoning';
import type { ProviderTarget } from './targets';
import type { Usage } from './usage';

/**
 * A structured task and the provider calls made for it (lib/providers/structured.ts runs them): one
 * through the Responses API, one through Chat Completions, each returning the raw answer unchecked.
 */

/** A part of the user's turn: text, or an image by https or data: URL (vision). */
export type PromptPart = { type: 'text'; text: string } | { type: 'image'; url: string };

export interface StructuredTask<T> {
  /** Schema name sent to the provider: letters, digits, `_` and `-`. */
  name: string;
  schema: z.ZodType<T>;
  instructions: string;
  input: string | PromptPart[];
  /**
   * The visible answer's own output cap. A call to a reasoning model gets this plus the effort's
   * reasoning allowance (see reasoning.ts).
   */
  maxOutputTokens: number;
  /** How hard a reasoning model thinks (its model policy's). @default DEFAULT_REASONING_EFFORT */
  reasoningEffort?: ReasoningEffort;
  /** @default 'text'; 'vision' when the input holds images. */
  capability?: 'text' | 'vision';
  /** The primary's model (the task's model policy); unset: the primary's model for the capability. */
  model?: string;
  /**
   * OpenAI's `prompt_cache_key`: the task, its prompt version and variant. Requests that share it share
   * their unchanging prefix (instructions, schema), and the key keeps them on the machines that cache it.
   */
  cacheKey?: string;
}

/** One turn of the conversation in provider-neutral form. */
export type Turn = { role: 'user'; content: PromptPart[] } | { role: 'assistant'; content: string };

export interface RawOutput {
  text: string;
  /** Why the output cannot be used as is (truncated, refused), before any schema check. */
  problem?: string;
  /** The output cap ended it: the answer may be missing or cut, reasoning having used the cap. */
  capped?: true;
  usage: Usage;
}

/** How one call is made: the reasoning effort, and the multiple of the task's cap it gets. */
export interface CallShape {
  effort: ReasoningEffort;
  capFactor: number;
}

/** The output cap of one call of `task` to `model`. */
export function callCap<T>(task: StructuredTask<T>, model: string, capFactor = 1): number {
  const effort = task.reasoningEffort ?? DEFAULT_REASONING_EFFORT;
  return outputCap(task.maxOutputTokens, model, effort) * capFactor;
}

export async function viaResponses<T>(
  target: ProviderTarget,
  model: string,
  task: StructuredTask<T>,
  turns: Turn[],
  call: CallShape,
): Promise<RawOutput> {
  const res = await target.client.responses.create({
    model,
    instructions: task.instructions,
    input: turns.map(toResponsesItem),
    text: { format: zodTextFormat(task.schema, task.name) },
    max_output_tokens: callCap(task, model, call.capFactor),
    ...reasoningParam(model, call.effort),
    ...(task.cacheKey ? { prompt_cache_key: task.cacheKey } : {}),
    store: false,
  });
  const parts = res.output.flatMap((item) => (item.type === 'message' ? item.content : []));
  const text = parts.map((p) => (p.type === 'output_text' ? p.text : '')).join('');
  const refusal = parts.find((p) => p.type === 'refusal');
  const usage: Usage = {
    inputTokens: res.usage?.input_tokens ?? 0,
    cachedTokens: res.usage?.input_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: res.usage?.input_tokens_details?.cache_write_tokens ?? 0,
    outputTokens: res.usage?.output_tokens ?? 0,
    reasoningTokens: res.usage?.output_tokens_details?.reasoning_tokens ?? 0,
  };
  if (refusal) return { text, usage, problem: `the model refused (${refusal.refusal})` };
  if (res.status === 'incomplete') {
    const reason = res.incomplete_details?.reason ?? 'incomplete';
    return {
      text,
      usage,
      problem: `the answer was cut off (${reason})`,
      ...(reason === 'max_output_tokens' ? { capped: true as const } : {}),
    };
  }
  return { text, usage };
}

export async function viaChat<T>(
  target: ProviderTarget,
  model: string,
  task: StructuredTask<T>,
  turns: Turn[],
  call: CallShape,
): Promise<RawOutput> {
  // Without native structured outputs the schema travels in the prompt; zod checks the answer either way.
  const instructions = target.structuredOutputs
    ? task.instructions
    : `${task.instructions}\n\nReply with only a JSON object, no prose and no code fence, valid against this JSON Schema:\n${JSON.stringify(z.toJSONSchema(task.schema))}`;
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: instructions },
    ...turns.map(toChatMessage),
  ];
  const res = await target.client.chat.completions.create({
    model,
    messages,
    max_completion_tokens: callCap(task, model, call.capFactor),
    ...(isReasoningModel(model) ? { reasoning_effort: call.effort } : {}),
    ...(target.structuredOutputs ? { response_format: zodResponseFormat(task.schema, task.name) } : {}),
  });
  const choice = res.choices[0];
  const text = choice?.message.content ?? '';
  const usage: Usage = {
    inputTokens: res.usage?.prompt_tokens ?? 0,
    cachedTokens: res.usage?.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: res.usage?.prompt_tokens_details?.cache_write_tokens ?? 0,
    outputTokens: res.usage?.completion_tokens ?? 0,
    reasoningTokens: res.usage?.completion_tokens_details?.reasoning_tokens ?? 0,
  };
  if (choice?.message.refusal)
    return { text, usage, problem: `the model refused (${choice.message.refusal})` };
  if (choice?.finish_reason === 'length')
    return { text, usage, problem: 'the answer was cut off (max tokens)', capped: true };
  return { text, usage };
}

function toResponsesItem(turn: Turn): ResponseInputItem {
  if (turn.role === 'assistant') return { role: 'assistant', content: turn.content };
  const content = turn.content.map(
    (p): ResponseInputContent =>
      p.type === 'text'
        ? { type: 'input_text', text: p.text }
        : { type: 'input_image', image_url: p.url, detail: 'auto' },
  );
  return { role: 'user', content };
}

function toChatMessage(turn: Turn): ChatCompletionMessageParam {
  if (turn.role === 'assistant') return { role: 'assistant', content: turn.content };
  const content = turn.content.map(
    (p): ChatCompletionContentPart =>
      p.type === 'text' ? { type: 'text', text: p.text } : { type: 'image_url', image_url: { url: p.url } },
  );
  return { role: 'user', content };
}
