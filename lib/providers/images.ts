import { UpstreamError } from '../errors';
import type { RetryPolicy } from './retry';
import { callProviders, type Served } from './router';
import type { RouterDeps } from './router-deps';
import type { Usage } from './usage';

export interface ImageRequest {
  prompt: string;
  /** e.g. `1024x1024`. @default '1024x1024' */
  size?: string;
  /** @default 'medium' */
  quality?: 'low' | 'medium' | 'high';
}

export interface GeneratedImage {
  /** The image bytes; GPT image models return base64 only, never a URL. */
  bytes: Uint8Array;
  size: string;
  quality: string;
  usage: Usage;
}

/** Generates one image through the provider chain (same retries, breakers and backups as text). */
export async function generateImage(
  deps: RouterDeps,
  policy: RetryPolicy,
  request: ImageRequest,
): Promise<Served<GeneratedImage>> {
  const size = request.size ?? '1024x1024';
  const quality = request.quality ?? 'medium';
  return callProviders(
    deps,
    'image',
    policy,
    async (target, model) => {
      const res = await target.client.images.generate({
        model,
        prompt: request.prompt,
        n: 1,
        size: size as '1024x1024',
        quality,
      });
      const b64 = res.data?.[0]?.b64_json;
      if (!b64) throw new UpstreamError({ message: `${target.name} returned no image data.` });
      return {
        bytes: Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)),
        size,
        quality,
        usage: {
          inputTokens: res.usage?.input_tokens ?? 0,
          cachedTokens: 0,
          outputTokens: res.usage?.output_tokens ?? 0,
        },
      };
    },
    { usageOf: (value) => value.usage },
  );
}
