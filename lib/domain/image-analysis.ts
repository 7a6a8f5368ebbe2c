/**
 * Image understanding: an image in, a structured analysis out (what it shows, the products in it,
 * brand-safety concerns and commercial opportunities), from a current vision model.
 */
import { z } from 'zod';
import { isOutboundUrl } from '../outbound-url';
import type { StructuredTask } from '../providers';

/** Bump when the prompt or the output schema changes. */
export const IMAGE_ANALYSIS_PROMPT_VERSION = 'img-1';

/**
 * The largest image accepted as a data URL, in decoded bytes; larger images go by https URL (fetched
 * by the gateway, up to lib/image-fetch.ts's cap).
 */
export const MAX_IMAGE_BYTES = 700_000;

export const ImageAnalysisRequest = z.strictObject({
  image_url: z
    .string()
    .max(1_000_000)
    .refine(
      (u) =>
        (/^https?:\/\/\S+$/.test(u) && isOutboundUrl(u)) ||
        /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]+=*$/.test(u),
      'must be an https URL (plain http only to localhost) or a data:image/(png|jpeg|webp|gif);base64 URL',
    )
    .refine(
      (u) =>
        !u.startsWith('data:') || Math.floor(((u.length - u.indexOf(',') - 1) * 3) / 4) <= MAX_IMAGE_BYTES,
      {
        message: `must decode to at most ${MAX_IMAGE_BYTES} bytes`,
      },
    ),
  context: z.string().trim().max(500).optional(),
});
export type ImageAnalysisRequest = z.infer<typeof ImageAnalysisRequest>;

export const ImageAnalysis = z.object({
  description: z.string().min(1).max(300),
  products: z
    .array(z.object({ name: z.string().min(1).max(80), category: z.string().min(1).max(60) }))
    .max(10),
  brand_safety_flags: z.array(z.string().max(60)).max(5),
  opportunities: z
    .array(z.object({ title: z.string().min(1).max(80), product_category: z.string().min(1).max(60) }))
    .max(5),
});
export type ImageAnalysis = z.infer<typeof ImageAnalysis>;

const INSTRUCTIONS = `You analyse a product image for a commerce platform. Describe what it shows in at most
300 characters; list the products you can see with their categories; put brand-safety concerns
(violence, adult content, alcohol, weapons, minors, visible third-party logos) as short labels in
brand_safety_flags, or return an empty list; suggest up to five commercial opportunities it suggests.`;

/**
 * The vision task for `request`, sent `image`: the data URL of the bytes the gateway fetched once (and
 * moderated), never the client's URL, which the model's fetcher could be answered differently at.
 */
export function imageAnalysisTask(
  request: ImageAnalysisRequest,
  image: string,
): StructuredTask<ImageAnalysis> {
  return {
    name: 'image_analysis',
    schema: ImageAnalysis,
    instructions: INSTRUCTIONS,
    input: [
      { type: 'text', text: request.context ? `Context: ${request.context}` : 'Analyse this image.' },
      { type: 'image', url: image },
    ],
    maxOutputTokens: 900,
    capability: 'vision',
  };
}

/**
 * The analysis text a reader is shown, for moderation before it is cached or served: the description,
 * products and opportunities. `brand_safety_flags` are left out: they are labels naming concerns
 * ("alcohol", "weapons"), words the rules exist to block, and each is at most 60 characters.
 */
export function analysisText(analysis: ImageAnalysis): string {
  return [
    analysis.description,
    ...analysis.products.map((p) => `${p.name} (${p.category})`),
    ...analysis.opportunities.map((o) => `${o.title} (${o.product_category})`),
  ].join('\n');
}
