/**
 * The opportunities prompt: the instructions, the worked examples and the structured task. What never
 * changes comes first, byte-identical, so OpenAI's prompt cache can serve it (docs/prompt-caching.md);
 * the request's own intent is the input, last.
 */
import type { StructuredTask } from '../providers';
import { OpportunitiesOutput, type OpportunitiesRequest } from './opportunities.ts';
import { OPPORTUNITIES_EXAMPLES } from './opportunity-examples.ts';

/** Bump when the prompt or the output schema changes: cached answers of the old shape are abandoned. */
export const OPPORTUNITIES_PROMPT_VERSION = 'opp-2';

const INSTRUCTIONS = `You find commercial opportunities in a shopper's intent for a commerce platform.
Return at most five opportunities, most relevant first: each a concrete product or offer (title),
its product category, a one-sentence rationale tied to the intent, a relevance from 0 to 1, and
whether an image would help sell it (needs_visual). Never invent prices, discounts or guarantees.
Keep "reasoning" under 200 characters. Put concerns about the intent (e.g. minors, health claims,
regulated goods) in safety_flags as short labels; otherwise return an empty list.`;

/** The request as the model reads it. */
function describe(request: OpportunitiesRequest): string {
  const context = request.context ? `\nContext: ${JSON.stringify(request.context)}` : '';
  return `Shopper intent: ${request.intent}${context}`;
}

const PROMPT = `${INSTRUCTIONS}\n\nExamples of a request and its answer:\n\n${OPPORTUNITIES_EXAMPLES.map(
  (e) => `${describe(e.request)}\nAnswer: ${JSON.stringify(e.output)}`,
).join('\n\n')}`;

/** The structured-output task for one request. */
export function opportunitiesTask(request: OpportunitiesRequest): StructuredTask<OpportunitiesOutput> {
  return {
    name: 'opportunities',
    schema: OpportunitiesOutput,
    instructions: PROMPT,
    input: describe(request),
    maxOutputTokens: 1200,
    cacheKey: `opportunities-${OPPORTUNITIES_PROMPT_VERSION}`,
  };
}
