import { invalidParam, missingParam, SimHttpError } from './errors.ts';
import { IMAGE_FLAG_MARKER } from './moderation-terms.ts';
import { encodePng } from './png.ts';
import { createRng, hashOf } from './rng.ts';
import { exactPath, type RouteContext, type RouteResult, type SimRoute } from './routes.ts';
import { estimateTokens } from './tokens.ts';

const DEFAULT_MODEL = 'gpt-image-2';
/** Shut down per reference §3.1; the real API answers 404 for them. */
const RETIRED_MODELS = new Set(['dall-e-2', 'dall-e-3', 'gpt-image-1']);
const QUALITIES = new Set(['low', 'medium', 'high', 'xhigh', 'max']);
/** Output image tokens per 1024×1024 image, by quality (gpt-image-1 family figures). */
const OUTPUT_TOKENS: Record<string, number> = { low: 272, medium: 1056, high: 4160, xhigh: 6240, max: 8320 };
/** The PNG's shorter side in pixels; the longer side follows the requested aspect ratio. */
const PNG_SHORT_SIDE = 64;

/**
 * `POST /v1/images/generations` as GPT image models answer it: base64 PNGs only, with token usage.
 * Each image is a small real PNG (64 px on the short side, the requested aspect ratio) in colours derived
 * from the prompt. Whatever `output_format` asks for, the bytes are PNG and the response says 'png'.
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

  const data = Array.from({ length: n as number }, (_, index) => ({
    b64_json: renderImage(
      hashOf(model, body.prompt, size, index),
      width,
      height,
      background === 'transparent',
      body.prompt as string,
    ),
  }));
  const textTokens = estimateTokens(body.prompt);
  const scale = (width * height) / (1024 * 1024);
  const imageTokens = Math.max(1, Math.round((OUTPUT_TOKENS[quality] ?? 1056) * scale)) * (n as number);
  const usage = {
    input_tokens: textTokens,
    input_tokens_details: { image_tokens: 0, text_tokens: textTokens },
    output_tokens: imageTokens,
    output_tokens_details: { image_tokens: imageTokens, text_tokens: 0 },
    total_tokens: textTokens + imageTokens,
  };
  const response = { created: ctx.nowSeconds, background, output_format: 'png', quality, size, data, usage };
  return { kind: 'json', body: response, tokens: usage.total_tokens };
}

/** Diagonal stripes in two colours from the seed; transparent backgrounds leave the gaps clear. */
function renderImage(
  seed: string,
  width: number,
  height: number,
  transparent: boolean,
  prompt: string,
): string {
  const short = Math.min(width, height);
  const w = Math.max(1, Math.min(3 * PNG_SHORT_SIDE, Math.round((PNG_SHORT_SIDE * width) / short)));
  const h = Math.max(1, Math.min(3 * PNG_SHORT_SIDE, Math.round((PNG_SHORT_SIDE * height) / short)));
  const rng = createRng(seed);
  const background = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
  const stripe = background.map((value) => 255 - value);
  const channels = transparent ? 4 : 3;
  const pixels = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      const onStripe = ((x + y) >> 3) % 2 === 0;
      const offset = (y * w + x) * channels;
      pixels.set(onStripe ? stripe : background, offset);
      if (transparent) pixels[offset + 3] = onStripe ? 255 : 0;
    }
  }
  const text = prompt.includes(IMAGE_FLAG_MARKER) ? { Comment: IMAGE_FLAG_MARKER } : undefined;
  return encodePng({ width: w, height: h, channels, pixels, text }).toString('base64');
}
