/**
 * The worked examples in the prompts are copy the model is shown as right: each must pass its task's
 * schema and the whole moderation chain (business rules, brand safety, OpenAI's moderation, here the
 * simulator's) through `POST /v1/moderate`, as the gateway would moderate it.
 */
import { describe, expect, it } from 'vitest';
import { CREATIVE_EXAMPLES } from '../../lib/creatives/examples';
import { CreativeOutput, CreativeRequest } from '../../lib/creatives/schema';
import { OpportunitiesOutput, OpportunitiesRequest, opportunitiesText } from '../../lib/domain/opportunities';
import { OPPORTUNITIES_EXAMPLES } from '../../lib/domain/opportunity-examples';
import { freshCaller } from '../support/gateway';

interface Verdict {
  approved: boolean;
  layer: string | null;
  reason: string | null;
  checked: Record<string, string>;
}

async function moderated(text: string): Promise<Verdict> {
  const { post } = await freshCaller('/v1/moderate');
  const res = await post({ text });
  expect(res.status).toBe(200);
  return (await res.json()) as Verdict;
}

describe('the prompts’ worked examples', () => {
  it.each(CREATIVE_EXAMPLES.map((e) => [e.request.opportunity.id, e] as const))(
    'creative %s passes its schemas and the moderation chain',
    async (_id, example) => {
      expect(CreativeRequest.safeParse(example.request).success).toBe(true);
      expect(CreativeOutput.safeParse(example.output).error).toBeUndefined();
      // The text approveCreative moderates.
      const { copy, call_to_action, image_prompt } = example.output;
      const verdict = await moderated(`${copy}\n${call_to_action}\n${image_prompt}`);
      expect(verdict).toMatchObject({ approved: true, checked: { openai: 'passed' } });
    },
  );

  it.each(OPPORTUNITIES_EXAMPLES.map((e, i) => [i + 1, e] as const))(
    'opportunities example %i passes its schemas and the moderation chain',
    async (_n, example) => {
      expect(OpportunitiesRequest.safeParse(example.request).success).toBe(true);
      expect(OpportunitiesOutput.safeParse(example.output).error).toBeUndefined();
      const verdict = await moderated(opportunitiesText(example.output));
      expect(verdict).toMatchObject({ approved: true, checked: { openai: 'passed' } });
    },
  );

  it('covers every tone and an image prompt with no text, logos or faces', () => {
    expect(new Set(CREATIVE_EXAMPLES.map((e) => e.output.tone))).toEqual(
      new Set(['informative', 'playful', 'premium', 'urgent']),
    );
    for (const { output } of CREATIVE_EXAMPLES)
      expect(output.image_prompt).not.toMatch(/\b(?:logo|text|words|face|portrait)\b/i);
  });
});
