/**
 * How large a proxied image request may be. GPT image models answer with base64 only, about 3.4 bytes
 * a pixel for a photo-like PNG (up to 5.3 for incompressible RGBA), so pixels are what an answer's size
 * grows with. No imports: the memory bench (bench/memory.ts) reads these under plain Node.
 */

/** Images per request (OpenAI's own limit). */
export const IMAGES_PER_REQUEST = 10;
/** Largest image edge, and largest pixel count (3840×2160), of one generated image. */
export const IMAGE_EDGE = 3840;
export const IMAGE_PIXELS = 3840 * 2160;
/** Most pixels of all the images one request asks for (`n` × width × height). */
export const IMAGE_PIXELS_PER_REQUEST = IMAGES_PER_REQUEST * IMAGE_PIXELS;
