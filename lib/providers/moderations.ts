import type { Moderation } from 'openai/resources/moderations';
import { UpstreamError } from '../errors';
import type { RetryPolicy } from './retry';
import { callProviders, type Served } from './router';
import type { RouterDeps } from './router-deps';

/** What to moderate: text, image URLs (https or data:), or both in one call. */
export interface ModerationInput {
  text?: string;
  imageUrls?: string[];
}

/**
 * One verdict for text and images together: omni-moderation treats a multimodal list as one input,
 * and `category_applied_input_types` lists which input types each category was scored on.
 */
export async function moderate(
  deps: RouterDeps,
  policy: RetryPolicy,
  input: ModerationInput,
): Promise<Served<Moderation>> {
  const items = [
    ...(input.text ? [{ type: 'text' as const, text: input.text }] : []),
    ...(input.imageUrls ?? []).map((url) => ({ type: 'image_url' as const, image_url: { url } })),
  ];
  return callProviders(deps, 'moderation', policy, async (target, model) => {
    const res = await target.client.moderations.create({ model, input: items });
    const result = res.results[0];
    if (!result) throw new UpstreamError({ message: `${target.name} returned no moderation result.` });
    return result;
  });
}
