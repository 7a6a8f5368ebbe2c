/**
 * The creatives task (the platform's "NIAS"): an opportunity in, ad copy, an image prompt and a
 * durable image out. Request and output schemas, the prompt, and what versions the cache key.
 */
import { z } from 'zod';
import type { StructuredTask } from '../providers';

/** Bump when the prompt or the output schema changes: cached creatives of the old shape are abandoned. */
export const CREATIVES_PROMPT_VERSION = 'cre-1';

export const TONES = ['informative', 'playful', 'premium', 'urgent'] as const;
const short = (max: number) => z.string().trim().min(1).max(max);

export const CreativeRequest = z.strictObject({
  opportunity: z.strictObject({
    id: short(64),
    product_category: short(60),
    description: short(500),
  }),
  target_audience: short(200),
  brand_voice: short(200),
  tone: z.enum(TONES).optional(),
  needs_visual: z.boolean().default(true),
});
export type CreativeRequest = z.infer<typeof CreativeRequest>;

/** What the model must return (strict-mode compatible). */
export const CreativeOutput = z.object({
  copy: z.string().min(1).max(90),
  image_prompt: z.string().min(1).max(400),
  tone: z.enum(TONES),
  call_to_action: z.string().min(1).max(20),
});
export type CreativeOutput = z.infer<typeof CreativeOutput>;

export interface CreativeImage {
  id: string;
  url: string;
  model: string;
  size: string;
}

export interface Creative extends CreativeOutput {
  image: CreativeImage | null;
  moderation: { approved: true; checked: Record<string, string> };
  cache: { status: string; key_version: string };
  /** Present when the copy came from the policy's cheaper model (spend past the alert threshold). */
  degraded?: true;
}

/** Image settings for ad creatives: square, medium quality (a good price to quality trade for ads). */
export const CREATIVE_IMAGE = { size: '1024x1024', quality: 'medium' } as const;

// Tone never relaxes a moderation rule: "urgent" must be carried by benign words, because the urgency
// rule (limited time, act now, hurry) rejects pressure phrases whatever tone was asked for.
const RULES = `Write "copy" (at most 90 characters) in the brand voice for the target audience, a short
"call_to_action" (at most 20 characters), and an "image_prompt" (at most 400 characters) describing a
product photo with no text, no logos and no people's faces. Use the requested tone; for an urgent tone
convey timeliness with plain words such as "today" or "this season". Never use
pressure phrases (limited time, act now, hurry, last chance), money promises (guaranteed, no risk,
get rich), secrecy (secret, hidden, insider), superlatives or health claims (best, #1, cure,
clinically proven), competitor names or profanity.`;
const INSTRUCTIONS = `You write one ad creative for a commerce platform.\n${RULES}`;
const BATCH_INSTRUCTIONS = `You write one ad creative for each numbered request of a commerce platform. Return
"creatives" with exactly one entry per request, in the order of the requests. For each one:\n${RULES}`;

/** Output cap of one creative, reasoning included. */
const MAX_OUTPUT_TOKENS = 600;

function describe(request: CreativeRequest): string {
  return [
    `Product category: ${request.opportunity.product_category}`,
    `Opportunity: ${request.opportunity.description}`,
    `Target audience: ${request.target_audience}`,
    `Brand voice: ${request.brand_voice}`,
    `Tone: ${request.tone ?? 'choose the best fit'}`,
  ].join('\n');
}

/** The structured-output task for one request. */
export function creativeTask(request: CreativeRequest): StructuredTask<CreativeOutput> {
  return {
    name: 'creative',
    schema: CreativeOutput,
    instructions: INSTRUCTIONS,
    input: describe(request),
    maxOutputTokens: MAX_OUTPUT_TOKENS,
  };
}

export type CreativeBatchOutput = { creatives: CreativeOutput[] };

/**
 * One structured task for several requests (the playbook's intelligent batching): the instructions
 * and schema are sent once, and the answer is an array aligned with the requests, its length fixed by
 * the schema so a missing or extra creative fails validation (and gets the repair call).
 */
export function creativeBatchTask(requests: CreativeRequest[]): StructuredTask<CreativeBatchOutput> {
  return {
    name: 'creatives',
    schema: z.object({ creatives: z.array(CreativeOutput).length(requests.length) }),
    instructions: BATCH_INSTRUCTIONS,
    input: requests.map((r, i) => `Request ${i + 1}:\n${describe(r)}`).join('\n\n'),
    maxOutputTokens: MAX_OUTPUT_TOKENS * requests.length,
  };
}
