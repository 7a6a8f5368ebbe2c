import type { SimConfig } from './config.ts';
import { createRng } from './rng.ts';

/**
 * The realistic profile's model of production latency (production-realities.md), per endpoint and request
 * size. Every draw comes from a seeded RNG (rng.ts), seeded by the request's content, so the same request
 * always takes the same time; every figure below is multiplied by the config's `time_scale`.
 *
 * - Text (responses, chat): time to first token (TTFT) uniform in 300–1,500 ms, plus 0.02 ms per input token
 *   (prefill at 50k tokens/s); then output tokens, reasoning included, at a speed uniform in 50–150 tokens/s.
 *   A non-streamed answer arrives after TTFT + output / speed; a stream's first event comes at TTFT and each
 *   later event when the tokens before it have been generated (reasoning before the first text delta).
 * - Images: uniform per quality at 1024×1024 (low 20–30 s, medium 40–70 s, high 80–120 s; xhigh and max as
 *   high), times √(area / 1024²) for larger sizes (smaller ones take no less), capped at 120 s. `n` images
 *   are generated in parallel and take as long as one.
 * - Moderation: uniform 100–300 ms plus 100 ms per image input, at most 400 ms.
 * - Embeddings: uniform 50–150 ms plus 0.02 ms per input token, at most 300 ms.
 * - Models, files and batches answer at once.
 */

/** What a request's answer took to generate, as far as its latency depends on it. */
export type Work =
  | { kind: 'text'; seed: string; inputTokens: number; outputTokens: number }
  | { kind: 'image'; seed: string; quality: string; width: number; height: number }
  | { kind: 'moderation'; seed: string; images: number }
  | { kind: 'embedding'; seed: string; inputTokens: number };

/** When an answer's parts may go: the first after `startMs`, then `msPerToken` for each output token. */
export interface Pace {
  startMs: number;
  msPerToken: number;
}

const IMAGE_SECONDS: Record<string, [number, number]> = {
  low: [20, 30],
  medium: [40, 70],
  high: [80, 120],
  xhigh: [80, 120],
  max: [80, 120],
};
const IMAGE_CAP_SECONDS = 120;
const PREFILL_MS_PER_TOKEN = 0.02;

/** Whether requests under `config` run on the realistic profile. */
export function isRealistic(config: SimConfig): boolean {
  return config.profile === 'realistic';
}

/** The config's time scale (1 unless set). */
export function timeScaleOf(config: SimConfig): number {
  return config.time_scale ?? 1;
}

/** The realistic pace of `work`, scaled by `timeScale`. */
export function realisticPace(work: Work, timeScale: number): Pace {
  const rng = createRng(`latency:${work.seed}`);
  const uniform = (min: number, max: number) => min + (max - min) * rng.next();
  const scaled = (startMs: number, msPerToken = 0) => ({
    startMs: startMs * timeScale,
    msPerToken: msPerToken * timeScale,
  });
  switch (work.kind) {
    case 'text': {
      const ttftMs = uniform(300, 1500) + work.inputTokens * PREFILL_MS_PER_TOKEN;
      return scaled(ttftMs, 1000 / uniform(50, 150));
    }
    case 'image': {
      const [min, max] = IMAGE_SECONDS[work.quality] ?? (IMAGE_SECONDS.medium as [number, number]);
      const sizeFactor = Math.max(1, Math.sqrt((work.width * work.height) / (1024 * 1024)));
      return scaled(Math.min(IMAGE_CAP_SECONDS, uniform(min, max) * sizeFactor) * 1000);
    }
    case 'moderation':
      return scaled(Math.min(400, uniform(100, 300) + 100 * work.images));
    case 'embedding':
      return scaled(Math.min(300, uniform(50, 150) + work.inputTokens * PREFILL_MS_PER_TOKEN));
  }
}
