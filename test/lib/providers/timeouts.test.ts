import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../../lib/env';
import { attemptTarget, createProviderTargets, REQUEST_ID_HEADER } from '../../../lib/providers/targets';
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

  it("calls each capability through a client with that capability's timeout and the request's id", async () => {
    const [primary] = createProviderTargets(env);
    if (!primary) throw new Error('no primary');
    // The base client is built on first use, and spreading the target does not build it.
    expect(Object.keys(primary)).not.toContain('client');
    expect(primary.client.timeout).toBe(30_000);
    const image = attemptTarget(primary, 'image', 'req_1');
    expect(image.timeoutMs).toBe(180_000);
    expect(image.target.client.timeout).toBe(180_000);
    expect(image.target.client.apiKey).toBe(primary.client.apiKey);
    expect(image.target.client.baseURL).toBe(primary.client.baseURL);
    const headers = (await image.target.client.buildRequest({ method: 'post', path: '/responses' })).req
      .headers;
    expect(new Headers(headers as HeadersInit).get(REQUEST_ID_HEADER)).toBe('req_1');
    expect(attemptTarget(primary, 'moderation').target.client.timeout).toBe(10_000);
    // A target without per-capability timeouts (a test's), called without a request id, keeps its client.
    const plain = { ...primary, client: primary.client, timeoutsMs: undefined };
    expect(attemptTarget(plain, 'image')).toEqual({ target: plain });
  });

  it('sizes a lease by every attempt and backoff of each capability a generation calls, doubled', () => {
    // (30 s + 20 s) × 4 attempts × 2.
    expect(longestGenerationMs(env)).toBe(400_000);
    // A creative with an image: the copy's calls, then the image's (180 s + 20 s) × 4, doubled.
    expect(longestGenerationMs(env, ['text', 'image'])).toBe(2_000_000);
    expect(longestGenerationMs(env, ['embeddings'])).toBe(320_000);
  });
});
