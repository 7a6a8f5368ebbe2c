/**
 * The creatives task (the platform's "NIAS"): an opportunity in, ad copy, an image prompt and a
 * durable image out. Its request and output schemas; the prompt is in prompt.ts.
 */
import { z } from 'zod';

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

export type CreativeBatchOutput = { creatives: CreativeOutput[] };
