import { UpstreamError } from '../errors';
import type { RetryPolicy } from './retry';
import { callProviders, type Served } from './router';
import type { RouterDeps } from './router-deps';
import type { Usage } from './usage';

export interface Embeddings {
  /** One vector per input, in input order. */
  vectors: number[][];
  usage: Usage;
}

/** Embeds texts in one call; `dimensions` shortens text-embedding-3 vectors. */
export async function embed(
  deps: RouterDeps,
  policy: RetryPolicy,
  texts: string[],
  dimensions?: number,
): Promise<Served<Embeddings>> {
  return callProviders(
    deps,
    'embeddings',
    policy,
    async (target, model) => {
      const res = await target.client.embeddings.create({
        model,
        input: texts,
        ...(dimensions ? { dimensions } : {}),
      });
      const vectors = [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== texts.length) {
        throw new UpstreamError({
          message: `${target.name} returned ${vectors.length} of ${texts.length} embeddings.`,
        });
      }
      return {
        vectors,
        usage: { inputTokens: res.usage.prompt_tokens, cachedTokens: 0, outputTokens: 0 },
      };
    },
    { usageOf: (value) => value.usage },
  );
}
