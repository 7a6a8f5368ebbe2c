/**
 * The opportunities task (the platform's "DAST"): shopper intent in, up to five commercial
 * opportunities out. Request and output schemas; the prompt is in opportunities-prompt.ts.
 */
import { z } from 'zod';
import { toHex } from '../hex.ts';

const short = (max: number) => z.string().trim().min(1).max(max);

export const OpportunitiesRequest = z.strictObject({
  intent: short(2000),
  context: z
    .strictObject({
      locale: z
        .string()
        .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/, 'must be a BCP 47 tag such as en-GB')
        .optional(),
      region: short(64).optional(),
      audience_segment: short(100).optional(),
      price_band: z.enum(['budget', 'mid', 'premium', 'luxury']).optional(),
      hints: z.array(short(200)).max(10).optional(),
    })
    .optional(),
});
export type OpportunitiesRequest = z.infer<typeof OpportunitiesRequest>;

/** What the model must return; strict-mode compatible (every field required, nulls for "none"). */
export const OpportunitiesOutput = z.object({
  opportunities: z
    .array(
      z.object({
        title: z.string().min(1).max(80),
        product_category: z.string().min(1).max(60),
        rationale: z.string().min(1).max(300),
        relevance: z.number().min(0).max(1),
        needs_visual: z.boolean(),
      }),
    )
    .max(5),
  reasoning: z.string().max(200),
  confidence: z.number().min(0).max(1),
  safety_flags: z.array(z.string().max(60)).max(5),
});
export type OpportunitiesOutput = z.infer<typeof OpportunitiesOutput>;

export interface Opportunity {
  id: string;
  title: string;
  product_category: string;
  rationale: string;
  relevance: number;
  needs_visual: boolean;
}

export interface OpportunitiesResponse {
  opportunities: Opportunity[];
  reasoning: string;
  confidence: number;
  safety_flags: string[];
}

/**
 * The model's words in an answer, as moderation reads them: each opportunity's title, category and
 * rationale, and the reasoning. `safety_flags` are left out: they are labels about the shopper's intent
 * for the platform ("health claims", "counterfeit goods"), not copy, and moderating them would refuse
 * exactly the answers where they do their job (docs/moderation.md).
 */
export function opportunitiesText(output: OpportunitiesOutput): string {
  return [
    ...output.opportunities.map((o) => `${o.title}\n${o.product_category}\n${o.rationale}`),
    output.reasoning,
  ].join('\n');
}

/** Adds stable ids: the same opportunity (title and category) gets the same id in every answer. */
export async function withIds(output: OpportunitiesOutput): Promise<OpportunitiesResponse> {
  const opportunities = await Promise.all(
    output.opportunities.map(async (o) => ({ id: await opportunityId(o.title, o.product_category), ...o })),
  );
  return { ...output, opportunities };
}

async function opportunityId(title: string, category: string): Promise<string> {
  const canonical = `${title}\u0000${category}`.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  const hex = toHex(new Uint8Array(digest, 0, 8));
  return `opp_${hex}`;
}
