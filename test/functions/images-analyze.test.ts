import { describe, expect, it } from 'vitest';
import { type ImageAnalysis, ImageAnalysis as ImageAnalysisSchema } from '../../lib/domain/image-analysis';
import type { ErrorBody } from '../../lib/errors';
import { envWith } from '../support/env';
import { callGateway } from '../support/gateway';
import { bearer, createTestKey } from '../support/keys';
import { simKey, simRequests } from '../support/providers';

const IMAGE = 'https://cdn.example/products/boots.png';

async function setup() {
  const [{ key }, sim] = [await createTestKey({ rpm: 1000 }), simKey()];
  const env = envWith({ OPENAI_API_KEY: sim });
  const post = (json: unknown) => callGateway('/v1/images/analyze', { json, headers: bearer(key) }, env);
  return { sim, post };
}

describe('POST /v1/images/analyze', () => {
  it('returns a schema-valid analysis from the vision model, after moderating the image', async () => {
    const { post, sim } = await setup();
    const res = await post({ image_url: IMAGE, context: 'autumn catalogue' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model')).toBe('gpt-6-luna');
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(ImageAnalysisSchema.safeParse(await res.json<ImageAnalysis>()).success).toBe(true);
    expect(await simRequests(sim)).toEqual({ '/v1/moderations': 1, '/v1/responses': 1 });
  });

  it('answers the same image again from the cache', async () => {
    const { post, sim } = await setup();
    await post({ image_url: IMAGE });
    const again = await post({ image_url: IMAGE });
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
  });

  it('refuses an image moderation flags: 400 content_policy_violation, no analysis paid for', async () => {
    const { post, sim } = await setup();
    const res = await post({ image_url: 'https://cdn.example/sim-flag.png' });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({
      code: 'content_policy_violation',
      param: 'image_url',
    });
    expect((await simRequests(sim))['/v1/responses']).toBeUndefined();
  });

  it.each([
    [{ image_url: 'http://cdn.example/x.png' }, 'image_url'],
    [{ image_url: 'data:text/plain;base64,aGVsbG8=' }, 'image_url'],
    [{ image_url: `data:image/png;base64,${'A'.repeat(1_000_000)}` }, 'image_url'],
    [{ image_url: IMAGE, context: 'x'.repeat(501) }, 'context'],
    [{}, 'image_url'],
  ])('rejects an invalid request with 400 at no cost (%#)', async (json, param) => {
    const { post, sim } = await setup();
    const res = await post(json);
    expect([400, 413]).toContain(res.status);
    if (res.status === 400) expect((await res.json<ErrorBody>()).error.param).toBe(param);
    expect(await simRequests(sim)).toEqual({});
  });
});
