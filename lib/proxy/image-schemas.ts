/** The body of the proxy's image generation (`POST /v1/images/generations`), as lib/proxy/schemas.ts checks the others. */
import { z } from 'zod';
import { allowOnly } from './allow-list';
import { AUTO_IMAGE_SIZE, IMAGE_PIXELS_PER_REQUEST, requestPixels } from './image-limits';
import { Model, PROXY_LIMITS } from './schemas';

/** `auto`, or WIDTHxHEIGHT in multiples of 16, at most 3840 a side and 3840×2160 in all, between 1:3 and 3:1. */
export const ImageSize = z.string().refine((size) => {
  if (size === 'auto') return true;
  const match = /^(\d{2,4})x(\d{2,4})$/.exec(size);
  if (!match) return false;
  const [w, h] = [Number(match[1]), Number(match[2])];
  return (
    w % 16 === 0 &&
    h % 16 === 0 &&
    Math.max(w, h) <= PROXY_LIMITS.imageEdge &&
    w * h <= PROXY_LIMITS.imagePixels &&
    Math.max(w, h) <= 3 * Math.min(w, h)
  );
}, 'must be auto or WIDTHxHEIGHT: multiples of 16, at most 3840 a side and 3840x2160 in all, between 1:3 and 3:1');

export const ImagesRequest = allowOnly({
  model: Model.optional(),
  prompt: z.string().min(1).max(PROXY_LIMITS.imagePromptChars),
  background: z.enum(['transparent', 'opaque', 'auto']).nullish(),
  output_format: z.enum(['png', 'jpeg', 'webp']).nullish(),
  output_compression: z.number().int().min(0).max(100).nullish(),
  moderation: z.enum(['low', 'auto']).nullish(),
  user: z.string().max(256).nullish(),
  n: z.number().int().min(1).max(PROXY_LIMITS.images).nullish(),
  size: ImageSize.nullish(),
  // Only the qualities the price table has token counts for ('auto' is priced as 'high').
  quality: z.enum(['low', 'medium', 'high', 'auto']).nullish(),
  stream: z
    .literal(false, { error: 'is not supported through the gateway: partial images are not relayed' })
    .nullish(),
}).superRefine((request, ctx) => {
  // Checked before any spend: an answer's size grows with its pixels (lib/proxy/image-limits.ts).
  const size = request.size ?? 'auto';
  const pixels = requestPixels(request.n ?? 1, size);
  if (pixels > IMAGE_PIXELS_PER_REQUEST) {
    ctx.addIssue({
      code: 'custom',
      path: ['n'],
      message: `n × size must come to at most ${IMAGE_PIXELS_PER_REQUEST.toLocaleString('en-US')} pixels through the gateway (10 × 1024x1024, 6 × 1536x1024 or 1 × 3840x2160; 'auto' counts as ${AUTO_IMAGE_SIZE}); this request asks for ${request.n ?? 1} × ${size} = ${pixels.toLocaleString('en-US')}`,
    });
  }
});
export type ImagesRequest = z.output<typeof ImagesRequest>;
