import { describe, expect, it } from 'vitest';
import { embed } from '../../../lib/providers/embeddings';
import { generateImage } from '../../../lib/providers/images';
import { moderate } from '../../../lib/providers/moderations';
import { FAST_POLICY, simConfigure, simHarness, simKey, simRequests } from '../../support/providers';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('generateImage', () => {
  it('returns the decoded PNG bytes, size, quality and usage', async () => {
    const h = simHarness();
    const served = await generateImage(h.deps, FAST_POLICY, {
      prompt: 'red boots on a wet trail',
      quality: 'low',
    });
    expect([...served.value.bytes.slice(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(served.value).toMatchObject({ size: '1024x1024', quality: 'low' });
    expect(served.value.usage.outputTokens).toBeGreaterThan(0);
    expect(served.model).toBe('gpt-image-2.5-flare');
  });

  it('retries a 503 like any other call', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 503, times: 1 }] });
    const h = simHarness(key);
    const served = await generateImage(h.deps, FAST_POLICY, { prompt: 'boots' });
    expect(served.retries).toBe(1);
    expect((await simRequests(key))['/v1/images/generations']).toBe(2);
  });
});

describe('moderate', () => {
  it('gives one verdict for text and images together', async () => {
    const h = simHarness();
    const clean = await moderate(h.deps, FAST_POLICY, { text: 'lovely boots for autumn' });
    expect(clean.value.flagged).toBe(false);
    const served = await moderate(h.deps, FAST_POLICY, {
      text: 'lovely boots for autumn',
      imageUrls: ['https://example.com/sim-flag.png'],
    });
    expect(served.value.flagged).toBe(true);
    expect(served.value.category_applied_input_types.violence).toContain('image');
    expect(served.model).toBe('omni-moderation-latest');
  });

  it('flags text from the word list', async () => {
    const h = simHarness();
    const served = await moderate(h.deps, FAST_POLICY, { text: 'boots to kill it on the trail' });
    expect(served.value.flagged).toBe(true);
  });
});

describe('embed', () => {
  it('returns one vector per text in input order, shortened by dimensions', async () => {
    const h = simHarness();
    const served = await embed(h.deps, FAST_POLICY, ['boots', 'umbrella', 'boots'], 64);
    expect(served.value.vectors).toHaveLength(3);
    expect(served.value.vectors.every((v) => v.length === 64)).toBe(true);
    expect(served.value.vectors[0]).toEqual(served.value.vectors[2]);
    expect(served.value.vectors[0]).not.toEqual(served.value.vectors[1]);
    expect(served.value.usage.inputTokens).toBeGreaterThan(0);
  });
});
