import { createCipheriv, createHash } from 'node:crypto';
import { createRng } from './rng.ts';

/** Raw pixels, row-major, `channels` bytes each (3: RGB, 4: RGBA). */
export interface Pixels {
  width: number;
  height: number;
  channels: 3 | 4;
  pixels: Uint8Array;
}

/** The instant profile's small image: 64 px on the short side, at most 3:1. */
const SMALL_SHORT_SIDE = 64;

/**
 * The instant profile's image: a small picture (64 px on the short side, the requested aspect ratio) of
 * diagonal stripes in two colours from the seed; transparent backgrounds leave the gaps clear.
 */
export function stripePixels(seed: string, width: number, height: number, transparent: boolean): Pixels {
  const short = Math.min(width, height);
  const w = Math.max(1, Math.min(3 * SMALL_SHORT_SIDE, Math.round((SMALL_SHORT_SIDE * width) / short)));
  const h = Math.max(1, Math.min(3 * SMALL_SHORT_SIDE, Math.round((SMALL_SHORT_SIDE * height) / short)));
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
  return { width: w, height: h, channels, pixels };
}

/**
 * The realistic profile's image, at the full requested size: a colour from the seed under fine grain (5
 * random bits per channel, from an AES-CTR keystream keyed by the seed, so it is deterministic and fast).
 * Like a photo's detail, PNG compresses it only to about 80 % (1024×1024 RGB: about 2.5 MB, 3.4 MB as
 * base64). Transparent backgrounds leave the alpha channel opaque.
 */
export function grainPixels(seed: string, width: number, height: number, transparent: boolean): Pixels {
  const rng = createRng(seed);
  const colour = [rng.int(0, 224), rng.int(0, 224), rng.int(0, 224)];
  const channels = transparent ? 4 : 3;
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const noise = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(
    Buffer.alloc(width * height * channels),
  );
  const pixels = new Uint8Array(noise.buffer, noise.byteOffset, noise.length);
  for (let offset = 0; offset < pixels.length; offset += channels) {
    for (let c = 0; c < 3; c += 1)
      pixels[offset + c] = (colour[c] as number) + ((pixels[offset + c] as number) & 31);
    if (transparent) pixels[offset + 3] = 255;
  }
  return { width, height, channels, pixels };
}
