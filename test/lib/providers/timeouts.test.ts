import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../../lib/env';
import { createProviderTargets, targetFor } from '../../../lib/providers/targets';
import { longestGenerationMs, timeoutsOf } from '../../../lib/providers/timeouts';
import { envWith } from '../../support/env';

const env = parseEnv(
  envWith({
    OPENAI_TIMEOUT_SECONDS: '30',
    OPENAI_IMAGE_TIMEOUT_SECONDS: '180',
    OPENAI_EMBEDDING_TIMEOUT_SECONDS: '20',
    OPENAI_MODERATION_TIMEOUT_SECONDS: '10',
    OPENAI_MAX_RETRIES: '3',
    OPENAI_RETRY_MAX_DELAY_MS: '20000',
  }),
);

describe('per-capability timeouts', () => {
  it('gives each capability its own per-attempt timeout; vision takes the text one', () => {
    expect(timeoutsOf(env)).toEqual({
      text: 30_000,
      vision: 30_000,
      image: 180_000,
      embeddings: 20_000,
      moderation: 10_000,
    });
  });

  it("calls each capability through a client with that capability's timeout, built once", () => {
    const [primary] = createProviderTargets(env);
    if (!primary) throw new Error('no primary');
    expect(primary.client.timeout).toBe(30_000);
    const image = targetFor(primary, 'image');
    expect(image.timeoutMs).toBe(180_000);
    expect(image.target.client.timeout).toBe(180_000);
    expect(image.target.client.apiKey).toBe(primary.client.apiKey);
    expect(image.target.client.baseURL).toBe(primary.client.baseURL);
    expect(targetFor(primary, 'image').target.client).toBe(image.target.client);
    expect(targetFor(primary, 'moderation').target.client.timeout).toBe(10_000);
    // A target without per-capability timeouts (a test's) keeps its own client.
    const plain = { ...primary, timeoutsMs: undefined };
    expect(targetFor(plain, 'image')).toEqual({ target: plain });
  });

  it('sizes a lease by every attempt and backoff of each capability a generation calls, doubled', () => {
    // (30 s + 20 s) × 4 attempts × 2.
    expect(longestGenerationMs(env)).toBe(400_000);
    // A creative with an image: the copy's calls, then the image's (180 s + 20 s) × 4, doubled.
    expect(longestGenerationMs(env, ['text', 'image'])).toBe(2_000_000);
    expect(longestGenerationMs(env, ['embeddings'])).toBe(320_000);
  });
});
