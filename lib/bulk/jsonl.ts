/**
 * The Batch API input file: one `/v1/responses` request per item, with the instructions, input, JSON
 * schema, reasoning effort and output cap the single endpoints send (lib/providers/structured.ts), so a bulk answer is the
 * answer a single call would get. `custom_id` is the item's index: output lines come back in any order.
 */
import { zodTextFormat } from 'openai/helpers/zod';
import type {
  ResponseCreateParamsNonStreaming,
  ResponseInputContent,
} from 'openai/resources/responses/responses';
import {
  callCap,
  DEFAULT_REASONING_EFFORT,
  type PromptPart,
  reasoningParam,
  type StructuredTask,
} from '../providers';

/** The endpoint every line targets. */
export const BULK_ENDPOINT = '/v1/responses';

/** One line of the input file, as the Batch API reads it. */
export interface BatchRequestLine {
  custom_id: string;
  method: 'POST';
  url: typeof BULK_ENDPOINT;
  body: ResponseCreateParamsNonStreaming;
}

type TextFormat = ReturnType<typeof zodTextFormat>;

/**
 * The line for item `index`. No repair turn: a bulk item gets one call, and its output is checked later.
 * `format` is the task schema's `zodTextFormat`, built once per job since it is the same for every item.
 */
export function requestLine(
  model: string,
  index: number,
  task: StructuredTask<unknown>,
  format: TextFormat = zodTextFormat(task.schema, task.name),
): BatchRequestLine {
  return {
    custom_id: String(index),
    method: 'POST',
    url: BULK_ENDPOINT,
    body: {
      model,
      instructions: task.instructions,
      input: [{ role: 'user', content: toContent(task.input) }],
      text: { format },
      max_output_tokens: callCap(task, model),
      ...reasoningParam(model, task.reasoningEffort ?? DEFAULT_REASONING_EFFORT),
      ...(task.cacheKey ? { prompt_cache_key: task.cacheKey } : {}),
      store: false,
    },
  };
}

/**
 * The input file's lines: one newline-terminated line per `[index, task]`, generated as they are read
 * (the upload streams them: lib/bulk/upload.ts). Converting a zod schema to JSON Schema costs far more
 * than the rest of a line, so each distinct schema is converted once.
 */
export function* inputLines(
  model: string,
  items: Iterable<[number, StructuredTask<unknown>]>,
): Generator<string> {
  const formats = new Map<unknown, TextFormat>();
  for (const [index, task] of items) {
    let format = formats.get(task.schema);
    if (!format) {
      format = zodTextFormat(task.schema, task.name);
      formats.set(task.schema, format);
    }
    yield `${JSON.stringify(requestLine(model, index, task, format))}\n`;
  }
}

function toContent(input: string | PromptPart[]): ResponseInputContent[] {
  const parts: PromptPart[] = typeof input === 'string' ? [{ type: 'text', text: input }] : input;
  return parts.map(
    (p): ResponseInputContent =>
      p.type === 'text'
        ? { type: 'input_text', text: p.text }
        : { type: 'input_image', image_url: p.url, detail: 'auto' },
  );
}
