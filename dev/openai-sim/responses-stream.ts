import { sseEvent } from './http.ts';
import { type FrameTokens, type StreamFrames, spreadTokens } from './meter.ts';
import { chunkText } from './text.ts';

type Json = Record<string, unknown>;

/**
 * The SSE events OpenAI sends for a response, in order: response.created, response.in_progress; for a
 * reasoning item, output_item.added and output_item.done (which waits for the reasoning tokens); for the
 * message, output_item.added, content_part.added, output_text (or refusal) deltas and done,
 * content_part.done, output_item.done; then response.completed (or response.incomplete) carrying the final
 * response and usage.
 */
export function responseStreamFrames(response: Json): StreamFrames {
  const usage = response.usage as {
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
  };
  const reasoningTokens = usage.output_tokens_details.reasoning_tokens;
  const pending = {
    ...response,
    status: 'in_progress',
    completed_at: null,
    incomplete_details: null,
    output: [],
    usage: null,
  };
  const events: Array<[string, Json, FrameTokens?]> = [
    ['response.created', { response: pending }],
    ['response.in_progress', { response: pending }],
  ];
  (response.output as Json[]).forEach((item, outputIndex) => {
    if (item.type === 'reasoning') {
      events.push(
        ['response.output_item.added', { output_index: outputIndex, item }],
        [
          'response.output_item.done',
          { output_index: outputIndex, item },
          { reasoning: reasoningTokens, visible: 0 },
        ],
      );
    } else {
      events.push(...messageEvents(item, outputIndex, usage.output_tokens - reasoningTokens));
    }
  });
  events.push([
    response.status === 'incomplete' ? 'response.incomplete' : 'response.completed',
    { response },
  ]);
  return {
    frames: events.map(([type, data], sequence) =>
      sseEvent(type, { type, ...data, sequence_number: sequence }),
    ),
    frameTokens: events.map(([, , tokens]) => tokens ?? { reasoning: 0, visible: 0 }),
  };
}

/** The events of one message item; its deltas carry `visibleTokens` between them. */
function messageEvents(
  message: Json,
  outputIndex: number,
  visibleTokens: number,
): Array<[string, Json, FrameTokens?]> {
  const part = (message.content as Json[])[0] as Json;
  const isRefusal = part.type === 'refusal';
  const fullText = String(isRefusal ? part.refusal : part.text);
  const where = { item_id: message.id, output_index: outputIndex };
  const events: Array<[string, Json, FrameTokens?]> = [
    [
      'response.output_item.added',
      { output_index: outputIndex, item: { ...message, status: 'in_progress', content: [] } },
    ],
    [
      'response.content_part.added',
      { ...where, content_index: 0, part: isRefusal ? { ...part, refusal: '' } : { ...part, text: '' } },
    ],
  ];
  const deltas = chunkText(fullText);
  const shares = spreadTokens(deltas, visibleTokens);
  deltas.forEach((delta, i) => {
    const type = isRefusal ? 'response.refusal.delta' : 'response.output_text.delta';
    events.push([
      type,
      { ...where, content_index: 0, delta, ...(isRefusal ? {} : { logprobs: [] }) },
      { reasoning: 0, visible: shares[i] ?? 0 },
    ]);
  });
  events.push(
    isRefusal
      ? ['response.refusal.done', { ...where, content_index: 0, refusal: fullText }]
      : ['response.output_text.done', { ...where, content_index: 0, text: fullText, logprobs: [] }],
    ['response.content_part.done', { ...where, content_index: 0, part }],
    ['response.output_item.done', { output_index: outputIndex, item: message }],
  );
  return events;
}
