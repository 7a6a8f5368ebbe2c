import { isRecord } from './config.ts';

/** The parts of a prompt the simulator's output depends on. */
export interface PromptText {
  systemText: string;
  userText: string;
  imageCount: number;
}

const SYSTEM_ROLES = new Set(['system', 'developer']);
const TEXT_PART_TYPES = new Set(['input_text', 'output_text', 'text', 'refusal']);
const IMAGE_PART_TYPES = new Set(['input_image', 'image_url']);

/**
 * Collects text and image counts from a Responses `input` (string or item array) or a Chat `messages` array.
 * Unknown item shapes contribute their JSON so that they still change the output.
 */
export function promptText(items: unknown, instructions?: unknown): PromptText {
  const prompt: PromptText = {
    systemText: typeof instructions === 'string' ? instructions : '',
    userText: '',
    imageCount: 0,
  };
  if (typeof items === 'string') {
    prompt.userText = items;
    return prompt;
  }
  if (!Array.isArray(items)) return prompt;
  const user: string[] = [];
  const system: string[] = prompt.systemText ? [prompt.systemText] : [];
  for (const item of items) {
    if (!isRecord(item)) continue;
    const target = typeof item.role === 'string' && SYSTEM_ROLES.has(item.role) ? system : user;
    if (item.type === 'function_call_output' && typeof item.output === 'string') user.push(item.output);
    else if (typeof item.content === 'string') target.push(item.content);
    else if (Array.isArray(item.content)) {
      for (const part of item.content) {
        if (!isRecord(part)) continue;
        if (IMAGE_PART_TYPES.has(String(part.type))) prompt.imageCount += 1;
        else if (TEXT_PART_TYPES.has(String(part.type))) target.push(String(part.text ?? part.refusal ?? ''));
      }
    } else if (item.content === undefined && item.role === undefined) user.push(JSON.stringify(item));
  }
  prompt.userText = user.join('\n');
  prompt.systemText = system.join('\n');
  return prompt;
}
