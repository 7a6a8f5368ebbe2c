/**
 * How large a proxied image request may be. GPT image models answer with base64 only, about 3.4 bytes
 * a pixel for a photo-like PNG (up to 5.3 for incompressible RGBA), so an answer grows with its pixels:
 * ten 3840×2160 images would be about 280 MB. The gateway relays an image answer as it arrives and never
 * holds it (json-relay.ts); the cap on pixels per request bounds it anyway, so that even one answer held
 * whole would fit a Worker isolate's 128 MB. No imports: the memory bench reads these under plain Node.
 */

/** Images per request (OpenAI's own limit). */
export const IMAGES_PER_REQUEST = 10;
/** Largest image edge, and largest pixel count (3840×2160), of one generated image. */
export const IMAGE_EDGE = 3840;
export const IMAGE_PIXELS = 3840 * 2160;
/**
 * Most pixels of all the images one request asks for (`n` × width × height): ten 1024×1024 images (the
 * most OpenAI's API gave per request before its 4K sizes), six at 1536×1024, or one at 3840×2160. An
 * answer of at most ~36 MB of base64 for photo-like PNGs, ~56 MB for incompressible RGBA.
 */
export const IMAGE_PIXELS_PER_REQUEST = 10 * 1024 * 1024;
/** What `size: 'auto'` is counted as: the largest standard size the model may pick (lib/pricing.ts too). */
export const AUTO_IMAGE_SIZE = '1536x1024';

/** Pixels of `n` images of `size` (`WIDTHxHEIGHT` or 'auto'); NaN for a malformed size. */
export function requestPixels(n: number, size: string): number {
  const match = /^(\d+)x(\d+)$/.exec(size === 'auto' ? AUTO_IMAGE_SIZE : size);
  return match ? n * Number(match[1]) * Number(match[2]) : Number.NaN;
}
