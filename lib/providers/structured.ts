import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { ResponseInputContent, ResponseInputItem } from 'openai/resources/responses/responses';
import { z } from 'zod';
import { InvalidModelOutputError } from '../errors';
import {
  DEFAULT_REASONING_EFFORT,
  INCOMPLETE_RETRY_FACTOR,
  isReasoningModel,
  outputCap,
  type ReasoningEffort,
  reasoningParam,
} from './reasoning';
import type { RetryPolicy } from './retry';
import { callProviders, type Served } from './router';
import type { RouterDeps } from './router-deps';
import type { ProviderTarget } from './targets';
import { addUsage, type Usage, ZERO_USAGE } from './usage';

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
}

export interface StructuredResult<T> extends Omit<Served<T>, 'value'> {
  data: T;
  /** Summed over every call that returned a body, the repair included: all of it is billed. */
  usage: Usage;
  /** 1 when the first output was unusable and a second call (a repair or a larger cap) fixed it. */
  repairs: number;
}

/** One turn of the conversation in provider-neutral form. */
type Turn = { role: 'user'; content: PromptPart[] } | { role: 'assistant'; content: string };

interface RawOutput {
  text: string;
  /** Why the output cannot be used as is (truncated, refused), before any schema check. */
  problem?: string;
  /** The output cap ended it: the answer may be missing or cut, reasoning having used the cap. */
  capped?: true;
  usage: Usage;
}

/**
 * Generates a schema-validated result. Every output that cannot be used gets exactly one more call:
 * an answer the output cap cut off (reasoning counts against it) is asked again with
 * INCOMPLETE_RETRY_FACTOR times the cap; one that is refused or fails the schema (length limits
 * included) gets a repair call that tells the model what was wrong. If that fails too,
 * `502 invalid_model_output`. Unvalidated content is never returned.
 */
export async function generateStructured<T>(
  deps: RouterDeps,
  policy: RetryPolicy,
  task: StructuredTask<T>,
): Promise<StructuredResult<T>> {
  const turns: Turn[] = [{ role: 'user', content: toParts(task.input) }];
  const effort = task.reasoningEffort ?? DEFAULT_REASONING_EFFORT;
  let capFactor = 1;
  let usage = ZERO_USAGE;
  let attempts = 0;
  let retries = 0;
  for (let repairs = 0; ; repairs++) {
    const call: CallShape = { effort, capFactor };
    // An attempt of this call the provider may have billed is charged this call's own worst case.
    const billing = deps.billing?.forCall?.(repairs > 0 ? 'second' : 'first') ?? deps.billing;
    const served = await callProviders(
      billing ? { ...deps, billing } : deps,
      task.capability ?? 'text',
      policy,
      (target, model) =>
        target.api === 'responses'
          ? viaResponses(target, model, task, turns, call)
          : viaChat(target, model, task, turns, call),
      {
        ...(task.model ? { primaryModel: task.model } : {}),
        usageOf: (raw) => raw.usage,
        repair: repairs > 0,
      },
    );
    attempts += served.attempts;
    retries += served.retries;
    usage = addUsage(usage, served.value.usage);
    if (deps.logPrompts) {
      deps.log.info('model exchange', {
        task: task.name,
        model: served.model,
        repairs,
        instructions: task.instructions,
        input: turns,
        output: served.value.text,
      });
    }
    const verdict = served.value.problem
      ? { ok: false as const, problems: served.value.problem }
      : check(task.schema, served.value.text);
    if (verdict.ok) {
      const { value: _raw, ...meta } = served;
      return { ...meta, attempts, retries, data: verdict.data, usage, repairs };
    }
    deps.log.warn('model output invalid', {
      provider: served.provider,
      model: served.model,
      repairs,
      problems: verdict.problems,
    });
    if (repairs >= 1) {
      throw new InvalidModelOutputError({
        message: `The model's output stayed invalid after a repair attempt (${verdict.problems}).`,
        usage,
      });
    }
    if (served.value.capped) {
      // Nothing to repair: the same question, with room for the reasoning that used up the cap.
      capFactor = INCOMPLETE_RETRY_FACTOR;
      continue;
    }
    turns.push(
      { role: 'assistant', content: served.value.text || '(no answer)' },
      {
        role: 'user',
        content: [
          {
            type: 'text',
            text: `Your previous answer was unusable: ${verdict.problems}. Answer again with JSON that satisfies the schema exactly; respect every length and count limit.`,
          },
        ],
      },
    );
  }
}

/** How one call is made: the reasoning effort, and the multiple of the task's cap it gets. */
interface CallShape {
  effort: ReasoningEffort;
  capFactor: number;
}

/** The output cap of one call of `task` to `model`. */
export function callCap<T>(task: StructuredTask<T>, model: string, capFactor = 1): number {
  const effort = task.reasoningEffort ?? DEFAULT_REASONING_EFFORT;
  return outputCap(task.maxOutputTokens, model, effort) * capFactor;
}

async function viaResponses<T>(
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

async function viaChat<T>(
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
  };
  if (choice?.message.refusal)
    return { text, usage, problem: `the model refused (${choice.message.refusal})` };
  if (choice?.finish_reason === 'length')
    return { text, usage, problem: 'the answer was cut off (max tokens)', capped: true };
  return { text, usage };
}

/** Parses and validates an answer; tolerates a code fence around it, which prompt-only backups add. */
function check<T>(
  schema: z.ZodType<T>,
  text: string,
): { ok: true; data: T } | { ok: false; problems: string } {
  let json: unknown;
  try {
    json = JSON.parse(text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1'));
  } catch {
    return { ok: false, problems: 'the answer is not valid JSON' };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, data: result.data };
  const problems = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, problems };
}

function toParts(input: string | PromptPart[]): PromptPart[] {
  return typeof input === 'string' ? [{ type: 'text', text: input }] : input;
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
