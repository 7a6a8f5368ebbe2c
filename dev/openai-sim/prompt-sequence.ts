import { isRecord } from './config.ts';
import { hashOf } from './rng.ts';
import { CHARS_PER_TOKEN, IMAGE_INPUT_TOKENS } from './tokens.ts';

/**
 * A prompt as the model reads it, for prompt caching (prompt-cache.ts): one text whose tokens (the
 * simulator's, CHARS_PER_TOKEN characters each, as tokens.ts counts them) come in the order OpenAI puts them
 * in front of the model. The structured-output schema first ("the schema serves as a prefix to the system
 * message", OpenAI's prompt-caching guide), then the instructions and system/developer messages, then the
 * tools, then the rest of the input in order. So two requests that differ only in their last user message
 * share everything before it, and a schema that changes between requests shares nothing.
 */
export interface CachePrompt {
  model: string;
  /** `prompt_cache_key`, when the request sent one: requests with different keys never share. */
  key: string | null;
  text: string;
}

const SYSTEM_ROLES = new Set(['system', 'developer']);
const IMAGE_PART_TYPES = new Set(['input_image', 'image_url']);

/** A Responses request's prompt: `text.format`, `instructions`, system input, `tools`, then the input. */
export function responsesPrompt(body: Record<string, unknown>): CachePrompt {
  const format = isRecord(body.text) ? body.text.format : undefined;
  const head = typeof body.instructions === 'string' ? [body.instructions] : [];
  return promptOf(body, head, body.input, format);
}

/** A Chat request's prompt: `response_format`, system/developer messages, `tools`, then the other messages. */
export function chatPrompt(body: Record<string, unknown>): CachePrompt {
  return promptOf(body, [], body.messages, body.response_format);
}

function promptOf(
  body: Record<string, unknown>,
  head: string[],
  input: unknown,
  format: unknown,
): CachePrompt {
  const items =
    typeof input === 'string' ? [{ role: 'user', content: input }] : Array.isArray(input) ? input : [];
  const isSystem = (item: unknown) =>
    isRecord(item) && typeof item.role === 'string' && SYSTEM_ROLES.has(item.role);
  const parts = [
    ...(format === undefined || format === null ? [] : [JSON.stringify(format)]),
    ...head,
    ...items.filter(isSystem).map(itemText),
    ...(Array.isArray(body.tools) && body.tools.length > 0 ? [JSON.stringify(body.tools)] : []),
    ...items.filter((item) => !isSystem(item)).map(itemText),
  ];
  return {
    model: typeof body.model === 'string' ? body.model : '',
    key: typeof body.prompt_cache_key === 'string' ? body.prompt_cache_key : null,
    text: parts.join('\n'),
  };
}

/** One message's text: its role, then its content; an image takes IMAGE_INPUT_TOKENS tokens of its own. */
function itemText(item: unknown): string {
  if (!isRecord(item)) return JSON.stringify(item) ?? '';
  const role = typeof item.role === 'string' ? `${item.role}: ` : '';
  if (typeof item.content === 'string') return role + item.content;
  if (!Array.isArray(item.content)) return JSON.stringify(item);
  return role + item.content.map(partText).join('');
}

function partText(part: unknown): string {
  if (!isRecord(part)) return '';
  if (IMAGE_PART_TYPES.has(String(part.type))) return imageText(part);
  if (typeof part.text === 'string') return part.text;
  return typeof part.refusal === 'string' ? part.refusal : '';
}

/** Stands for an image: as many characters as its tokens, different for a different image. */
function imageText(part: Record<string, unknown>): string {
  const length = IMAGE_INPUT_TOKENS * CHARS_PER_TOKEN;
  return hashOf(part)
    .repeat(Math.ceil(length / 64))
    .slice(0, length);
}
