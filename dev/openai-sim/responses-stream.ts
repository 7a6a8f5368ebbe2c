import { sseEvent } from './http.ts';
import { chunkText } from './text.ts';

type Json = Record<string, unknown>;

/**
 * The SSE events OpenAI sends for a one-message response, in order: response.created, response.in_progress,
 * output_item.added, content_part.added, output_text (or refusal) deltas and done, content_part.done,
 * output_item.done, then response.completed (or response.incomplete) carrying the final response and usage.
 */
export function responseStreamFrames(response: Json): string[] {
  const message = (response.output as Json[])[0] as Json;
  const part = (message.content as Json[])[0] as Json;
  const isRefusal = part.type === 'refusal';
  const fullText = String(isRefusal ? part.refusal : part.text);
  const pending = {
    ...response,
    status: 'in_progress',
    completed_at: null,
    incomplete_details: null,
    output: [],
    usage: null,
  };
  const where = { item_id: message.id, output_index: 0 };
  const events: Array<[string, Json]> = [
    ['response.created', { response: pending }],
    ['response.in_progress', { response: pending }],
    [
      'response.output_item.added',
      { output_index: 0, item: { ...message, status: 'in_progress', content: [] } },
    ],
    [
      'response.content_part.added',
      { ...where, content_index: 0, part: isRefusal ? { ...part, refusal: '' } : { ...part, text: '' } },
    ],
  ];
  for (const delta of chunkText(fullText)) {
    const type = isRefusal ? 'response.refusal.delta' : 'response.output_text.delta';
    events.push([type, { ...where, content_index: 0, delta, ...(isRefusal ? {} : { logprobs: [] }) }]);
  }
  events.push(
    isRefusal
      ? ['response.refusal.done', { ...where, content_index: 0, refusal: fullText }]
      : ['response.output_text.done', { ...where, content_index: 0, text: fullText, logprobs: [] }],
    ['response.content_part.done', { ...where, content_index: 0, part }],
    ['response.output_item.done', { output_index: 0, item: message }],
    [response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response }],
  );
  return events.map(([type, data], sequence) => sseEvent(type, { type, ...data, sequence_number: sequence }));
}
