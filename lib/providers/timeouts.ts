import type { Capability } from '../capabilities';
import type { Env } from '../env';

/**
 * Each capability's per-attempt timeout, in ms: an image may take minutes (OpenAI: up to about two
 * for complex prompts), a moderation a fraction of a second. One timeout for all would either cut
 * images off or let a hung moderation hold a request for minutes.
 */
export function timeoutsOf(env: Env): Record<Capability, number> {
  const text = env.OPENAI_TIMEOUT_SECONDS * 1000;
  return {
    text,
    vision: text,
    image: env.OPENAI_IMAGE_TIMEOUT_SECONDS * 1000,
    embeddings: env.OPENAI_EMBEDDING_TIMEOUT_SECONDS * 1000,
    moderation: env.OPENAI_MODERATION_TIMEOUT_SECONDS * 1000,
  };
}

/** How long a probe may hold a half-open breaker: one attempt at its capability, then a margin. */
export const probeLeaseMs = (timeoutMs: number) => timeoutMs + 5000;

/**
 * The longest one generation may take: every attempt and backoff of each capability it calls in
 * turn, at that capability's timeout, doubled for a structured output's repair and the moderations.
 */
export function longestGenerationMs(env: Env, uses: readonly Capability[] = ['text']): number {
  const timeouts = timeoutsOf(env);
  const attempts = env.OPENAI_MAX_RETRIES + 1;
  const calls = uses.reduce(
    (sum, capability) => sum + timeouts[capability] + env.OPENAI_RETRY_MAX_DELAY_MS,
    0,
  );
  return calls * attempts * 2;
}
