import { describe, expect, it } from 'vitest';
import { createDeps } from '../../lib/deps';
import { cosine, embeddingKey, readEmbeddings, writeEmbeddings } from '../../lib/embedding-cache';
import { parseEnv } from '../../lib/env';
import { bindings, envWith } from '../support/env';

describe('cosine', () => {
  it('is 1 for the same direction, -1 for opposite, 0 for orthogonal, zero or mismatched vectors', () => {
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [-1, 0])).toBeCloseTo(-1, 12);
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([0, 0], [1, 1])).toBe(0);
    expect(cosine([1, 2], [1, 2, 3])).toBe(0);
  });
});

describe('the embedding cache', () => {
  it('round-trips float32 vectors through Redis, keyed by model, dimensions and text', async () => {
    const deps = { redis: createDeps(parseEnv(bindings)).redis };
    const text = `boots ${crypto.randomUUID()}`;
    const [a, b] = await Promise.all([embeddingKey('t', 'm', 4, text), embeddingKey('t', 'm', 8, text)]);
    expect(a).not.toBe(b);
    await writeEmbeddings(deps, [{ key: a, vector: [0.5, -0.25, 0.125, 1] }], 60);
    expect(await readEmbeddings(deps, [a, b])).toEqual([[0.5, -0.25, 0.125, 1], null]);
  });

  it('fails open: without Redis every text reads as not embedded', async () => {
    const deps = {
      redis: createDeps(parseEnv(envWith({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' }))).redis,
    };
    expect(await readEmbeddings(deps, ['k1', 'k2'])).toEqual([null, null]);
    await expect(writeEmbeddings(deps, [{ key: 'k', vector: [1] }], 60)).resolves.toBeUndefined();
  });
});
