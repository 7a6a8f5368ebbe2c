import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { type ImageAnalysis, ImageAnalysis as ImageAnalysisSchema } from '../../lib/domain/image-analysis';
import type { ErrorBody } from '../../lib/errors';
import { MAX_IMAGE_REDIRECTS } from '../../lib/image-fetch';
import { callGateway, freshCaller } from '../support/gateway';
import { adminAuth } from '../support/keys';
import { simConfigure, simImage, simImageFetches, simImageInputs, simRequests } from '../support/providers';

const analyze = () => freshCaller('/v1/images/analyze');

describe('POST /v1/images/analyze', () => {
  it('fetches the image once and sends the same bytes to moderation and the vision model', async () => {
    const { post, sim } = await analyze();
    const url = simImage();
    const res = await post({ image_url: url, context: 'autumn catalogue' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model')).toBe('gpt-6-luna');
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(ImageAnalysisSchema.safeParse(await res.json<ImageAnalysis>()).success).toBe(true);
    // The image, then the analysis, is moderated.
    expect(await simRequests(sim)).toEqual({ '/v1/moderations': 2, '/v1/responses': 1 });
    expect(await simImageFetches(url)).toBe(1);
    const [moderated, analysed, ...more] = await simImageInputs(sim);
    expect(more).toEqual([]);
    expect(moderated).toMatchObject({ endpoint: '/v1/moderations', media_type: 'image/png' });
    expect(analysed).toEqual({ ...moderated, endpoint: '/v1/responses' });
  });

  it('cannot be shown one image and analyse another: a host that changes its answer is asked once', async () => {
    const { post, sim } = await analyze();
    // Clean on the first fetch, flagged from the second on.
    const url = simImage('flag_from=2');
    const res = await post({ image_url: url });
    expect(res.status).toBe(200);
    expect(await simImageFetches(url)).toBe(1);
    const [moderated, analysed] = await simImageInputs(sim);
    expect(analysed?.sha256).toBe(moderated?.sha256);
    // The cached analysis is served without fetching again.
    expect((await post({ image_url: url })).headers.get('x-cache')).toBe('HIT');
    expect(await simImageFetches(url)).toBe(1);
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
  });

  it('sends a data URL as it is, to both', async () => {
    const { post, sim } = await analyze();
    const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const image = `data:image/png;base64,${btoa(String.fromCharCode(...bytes))}`;
    expect((await post({ image_url: image })).status).toBe(200);
    const inputs = await simImageInputs(sim);
    expect(inputs.map((i) => [i.endpoint, i.bytes])).toEqual([
      ['/v1/moderations', bytes.length],
      ['/v1/responses', bytes.length],
    ]);
    expect(inputs[1]?.sha256).toBe(inputs[0]?.sha256);
  });

  it(`follows up to ${MAX_IMAGE_REDIRECTS} redirects, then analyses the image (a GIF here)`, async () => {
    const { post } = await analyze();
    const res = await post({
      image_url: simImage(`redirects=${MAX_IMAGE_REDIRECTS}&format=gif&type=image/gif`),
    });
    expect(res.status).toBe(200);
  });

  it('refuses an image moderation flags: 400 content_policy_violation, no analysis paid for', async () => {
    const { post, sim } = await analyze();
    const res = await post({ image_url: simImage('flag=1') });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({
      code: 'content_policy_violation',
      param: 'image_url',
    });
    expect((await simRequests(sim))['/v1/responses']).toBeUndefined();
  });

  it('moderates the analysis: a flagged one is 422 creative_rejected, neither served nor cached', async () => {
    const { post, sim } = await analyze();
    // Without a context the model's words come from its prompt ("Analyse this image"), not the client.
    await simConfigure(sim, { moderation: { flagged_terms: ['analyse'] } });
    const json = { image_url: simImage() };
    const res = await post(json);
    expect(res.status).toBe(422);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({ code: 'creative_rejected', message: expect.stringContaining('analysis') });
    expect(error.details).toMatchObject({ layer: 'openai', checked: { openai: 'flagged' } });
    const again = await post(json);
    expect(again.status).toBe(422);
    expect(again.headers.get('x-cache')).toBeNull();
    expect((await simRequests(sim))['/v1/responses']).toBe(2);
  });

  it('counts a flagged analysis as rejected for its prompt variant', async () => {
    const name = `vision-${uniqueWord(8)}`;
    const { post, sim, env } = await freshCaller('/v1/images/analyze', {
      PROMPT_VARIANTS: JSON.stringify({ vision: [{ name, weight: 1 }] }),
    });
    await simConfigure(sim, { moderation: { flagged_terms: ['analyse'] } });
    expect((await post({ image_url: simImage() })).status).toBe(422);
    const res = await callGateway('/admin/variants?days=2', { headers: adminAuth }, env);
    const { tasks } = await res.json<{ tasks: { vision: { name: string; rejected: number }[] } }>();
    expect(tasks.vision.find((row) => row.name === name)).toMatchObject({ generated: 1, rejected: 1 });
  });

  it.each([
    [{ image_url: 'http://cdn.example/x.png' }, 'image_url'],
    [{ image_url: 'data:text/plain;base64,aGVsbG8=' }, 'image_url'],
    [{ image_url: `data:image/png;base64,${'A'.repeat(1_000_000)}` }, 'image_url'],
    [{ image_url: 'https://cdn.example/x.png', context: 'x'.repeat(501) }, 'context'],
    [{}, 'image_url'],
  ])('rejects an invalid request with 400 at no cost (%#)', async (json, param) => {
    const { post, sim } = await analyze();
    const res = await post(json);
    expect([400, 413]).toContain(res.status);
    if (res.status === 400) expect((await res.json<ErrorBody>()).error.param).toBe(param);
    expect(await simRequests(sim)).toEqual({});
  });
});
