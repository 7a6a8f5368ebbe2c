import { constants } from 'node:zlib';
import { invalidParam, missingParam, SimHttpError } from './errors.ts';
import { grainPixels, stripePixels } from './image-pixels.ts';
import { type Meter, usageOf } from './meter.ts';
import { IMAGE_FLAG_MARKER } from './moderation-terms.ts';
import { encodePng } from './png.ts';
import { hashOf } from './rng.ts';
import { exactPath, type RouteContext, type RouteResult, type SimRoute } from './routes.ts';
import { estimateTokens } from './tokens.ts';

const DEFAULT_MODEL = 'gpt-image-2';
/** Shut down per reference §3.1; the real API answers 404 for them. */
const RETIRED_MODELS = new Set(['dall-e-2', 'dall-e-3', 'gpt-image-1']);
const QUALITIES = new Set(['low', 'medium', 'high', 'xhigh', 'max']);
/** Output image tokens per 1024×1024 image, by quality (gpt-image-1 family figures). */
const OUTPUT_TOKENS: Record<string, number> = { low: 272, medium: 1056, high: 4160, xhigh: 6240, max: 8320 };

/**
 * `POST /v1/images/generations` as GPT image models answer it: base64 PNGs only, with token usage (text input
 * tokens; image output tokens by quality at 1024², scaled by area). On the instant profile each image is a
 * small real PNG (64 px on the short side, the requested aspect ratio) in colours derived from the prompt; on
 * the realistic profile it has the requested size and is megabytes, as real ones are. Whatever
 * `output_format` asks for, the bytes are PNG and the response says 'png'.
 * A prompt containing 'sim-flag' yields PNGs carrying that marker, so moderating them as data URLs flags
 * them.
 */
export const imagesRoute: SimRoute = {
  method: 'POST',
  endpoint: '/v1/images/generations',
  matches: exactPath('/v1/images/generations'),
  defaultModel: DEFAULT_MODEL,
  handle: handleImages,
};

function handleImages(body: Record<string, unknown>, ctx: RouteContext): RouteResult {
  const model = typeof body.model === 'string' ? body.model : DEFAULT_MODEL;
  if (RETIRED_MODELS.has(model)) {
    throw new SimHttpError(404, `The model '${model}' has been shut down.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }
  if (typeof body.prompt !== 'string' || !body.prompt) throw missingParam('prompt');
  if (body.response_format === 'url') {
    throw invalidParam(
      'response_format',
      "Invalid 'response_format': GPT image models always return base64 (b64_json).",
    );
  }
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 10)
    throw invalidParam('n', "Invalid 'n': expected 1-10.");
  const size = body.size === undefined || body.size === 'auto' ? '1024x1024' : String(body.size);
  const dimensions = /^(\d+)x(\d+)$/.exec(size);
  if (!dimensions) throw invalidParam('size', `Invalid 'size': '${size}'.`);
  const quality = body.quality === undefined || body.quality === 'auto' ? 'medium' : String(body.quality);
  if (!QUALITIES.has(quality)) throw invalidParam('quality', `Invalid 'quality': '${quality}'.`);
  const background = body.background === 'transparent' ? 'transparent' : 'opaque';
  const [width, height] = [Number(dimensions[1]), Number(dimensions[2])];
  if (ctx.realistic) checkSize(width, height, size);

  const render = { realistic: ctx.realistic, transparent: background === 'transparent', prompt: body.prompt };
  const data = Array.from({ length: n as number }, (_, index) => ({
    b64_json: renderImage(hashOf(model, body.prompt, size, index), width, height, render),
  }));
  const textTokens = estimateTokens(body.prompt);
  const imageTokens = imageOutputTokens(quality, width, height) * (n as number);
  const usage = {
    input_tokens: textTokens,
    input_tokens_details: { image_tokens: 0, text_tokens: textTokens },
    output_tokens: imageTokens,
    output_tokens_details: { image_tokens: imageTokens, text_tokens: 0 },
    total_tokens: textTokens + imageTokens,
  };
  const response = { created: ctx.nowSeconds, background, output_format: 'png', quality, size, data, usage };
  const meter: Meter = {
    usage: usageOf(model, { inputTokens: textTokens, outputTokens: imageTokens, images: n as number }),
    work: { kind: 'image', seed: hashOf(model, body.prompt, size, quality), quality, width, height },
  };
  return { kind: 'json', body: response, meter };
}

/** Output tokens of one image: the quality's figure at 1024×1024, scaled by area. */
export function imageOutputTokens(quality: string, width: number, height: number): number {
  const scale = (width * height) / (1024 * 1024);
  return Math.max(1, Math.round((OUTPUT_TOKENS[quality] ?? 1056) * scale));
}

/** One image as base64 PNG: small stripes (instant) or full-size grain (realistic); see image-pixels.ts. */
function renderImage(seed: string, width: number, height: number, options: RenderOptions): string {
  const image = options.realistic
    ? grainPixels(seed, width, height, options.transparent)
    : stripePixels(seed, width, height, options.transparent);
  const text = options.prompt.includes(IMAGE_FLAG_MARKER) ? { Comment: IMAGE_FLAG_MARKER } : undefined;
  // Grain has no repeats to find: Huffman coding alone compresses it as well, in a fraction of the time.
  const deflate = options.realistic ? { strategy: constants.Z_HUFFMAN_ONLY } : undefined;
  return encodePng({ ...image, text, deflate }).toString('base64');
}

interface RenderOptions {
  realistic: boolean;
  transparent: boolean;
  prompt: string;
}

/**
 * gpt-image-2's size rules (openai-api.md §3.2), enforced on the realistic profile, whose images are full
 * size: both sides multiples of 16, at most 3840×2160, an aspect ratio within 3:1.
 */
function checkSize(width: number, height: number, size: string): void {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (
    short < 16 ||
    width % 16 !== 0 ||
    height % 16 !== 0 ||
    long > 3840 ||
    short > 2160 ||
    long > 3 * short
  ) {
    throw invalidParam(
      'size',
      `Invalid 'size': '${size}'. Both sides must be multiples of 16, at most 3840x2160, with an aspect ratio within 3:1.`,
    );
  }
}
