/**
 * The creatives prompt: the rules, the worked examples, and the structured tasks for one request and
 * for several combined. What never changes comes first, byte-identical, so OpenAI's prompt cache can
 * serve it (docs/prompt-caching.md); the request's own fields are the input, last.
 */
import { z } from 'zod';
import type { StructuredTask } from '../providers';
import { CREATIVE_EXAMPLES } from './examples.ts';
import { type CreativeBatchOutput, CreativeOutput, type CreativeRequest } from './schema.ts';

/** Bump when the prompt or the output schema changes: cached creatives of the old shape are abandoned. */
export const CREATIVES_PROMPT_VERSION = 'cre-2';

// Tone never relaxes a moderation rule: "urgent" must be carried by benign words, because the urgency
// rule (limited time, act now, hurry) rejects pressure phrases whatever tone was asked for.
const RULES = `Write "copy" (at most 90 characters) in the brand voice for the target audience, a short
"call_to_action" (at most 20 characters), and an "image_prompt" (at most 400 characters) describing a
product photo with no text, no logos and no people's faces. Use the requested tone; for an urgent tone
convey timeliness with plain words such as "today" or "this season". Never use
pressure phrases (limited time, act now, hurry, last chance), money promises (guaranteed, no risk,
get rich), secrecy (secret, hidden, insider), superlatives or health claims (best, #1, cure,
clinically proven), competitor names or profanity.`;
/** The worked examples, after the rules: the request as the model receives it, then its answer. */
const examples = () =>
  `Examples of a request and its answer:\n\n${CREATIVE_EXAMPLES.map(
    (e) => `${describe(e.request)}\nAnswer: ${JSON.stringify(e.output)}`,
  ).join('\n\n')}`;
/** The same examples as the combined call receives and answers them: numbered requests, one array. */
const batchExamples = () => {
  const groups = [CREATIVE_EXAMPLES.slice(0, 3), CREATIVE_EXAMPLES.slice(3)];
  return `Examples of numbered requests and their answer:\n\n${groups
    .map(
      (group) =>
        `${numbered(group.map((e) => e.request))}\nAnswer: ${JSON.stringify({ creatives: group.map((e) => e.output) })}`,
    )
    .join('\n\n')}`;
};
const INSTRUCTIONS = `You write one ad creative for a commerce platform.\n${RULES}\n\n${examples()}`;
const BATCH_INSTRUCTIONS = `You write one ad creative for each numbered request of a commerce platform. Return
"creatives" with exactly one entry per request, in the order of the requests. For each one:\n${RULES}\n\n${batchExamples()}`;

/** Output cap of one creative, reasoning included. */
const MAX_OUTPUT_TOKENS = 600;

/** Requests as the combined call reads them, `Request 1:`, `Request 2:`, …, in its examples and input alike. */
function numbered(requests: readonly CreativeRequest[]): string {
  return requests.map((r, i) => `Request ${i + 1}:\n${describe(r)}`).join('\n\n');
}

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
    cacheKey: `creative-${CREATIVES_PROMPT_VERSION}`,
  };
}

/** The most requests one combined call carries (CREATIVES_BATCH_MAX_ITEMS's upper bound). */
export const MAX_BATCH_CREATIVES = 50;

/**
 * One structured task for several requests (the playbook's intelligent batching): the instructions
 * and schema are sent once, and the answer is an array aligned with the requests. The JSON Schema is the
 * same for every batch size: OpenAI puts the schema in front of the instructions, so a count in it would
 * give each size its own prefix, never cached across sizes. The count is in the instructions and the
 * numbered input, and zod checks it: a missing or extra creative fails validation (and gets the repair
 * call).
 */
export function creativeBatchTask(requests: CreativeRequest[]): StructuredTask<CreativeBatchOutput> {
  if (requests.length < 1 || requests.length > MAX_BATCH_CREATIVES)
    throw new RangeError(
      `a combined call carries 1 to ${MAX_BATCH_CREATIVES} requests, got ${requests.length}`,
    );
  return {
    name: 'creatives',
    schema: z.object({
      creatives: z
        .array(CreativeOutput)
        .min(1)
        .max(MAX_BATCH_CREATIVES)
        .refine((all) => all.length === requests.length, {
          message: `must hold exactly ${requests.length} creatives, one per request`,
        }),
    }),
    instructions: BATCH_INSTRUCTIONS,
    input: numbered(requests),
    maxOutputTokens: MAX_OUTPUT_TOKENS * requests.length,
    cacheKey: `creatives-${CREATIVES_PROMPT_VERSION}`,
  };
}
