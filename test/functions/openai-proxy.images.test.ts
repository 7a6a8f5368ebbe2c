import { describe, expect, it } from 'vitest';
import { costOf, MODEL_PRICES, type ModelPrice, nanosToUsd } from '../../lib/pricing';
import { imagesCost, promptTokens } from '../../lib/proxy/estimate';
import { imagesUsage } from '../../lib/proxy/usage';
import { loadTokenCounter } from '../../lib/tokens';
import { simConfigure, simRequests } from '../support/providers';
import { proxyCaller, warmTokenizer } from './openai-proxy.support';

warmTokenizer();

const PRICE = MODEL_PRICES['gpt-image-2'] as ModelPrice;
const PNG_BASE64 = 'iVBORw0KGgo'; // the PNG signature, base64

interface ImagesAnswer {
  data: { b64_json: string }[];
  usage: unknown;
}

describe('POST /openai/v1/images/generations: relayed, never held whole', () => {
  it.each([
    ['two 3840x2160 images', { n: 2, size: '3840x2160' }],
    ['ten 1024x1536 images', { n: 10, size: '1024x1536' }],
    ["seven 'auto' images, counted as 1536x1024", { n: 7, size: 'auto' }],
  ])(
    'refuses %s (n × pixels past the cap) with 400 naming n, with no upstream call or spend',
    async (_, ask) => {
      const { raw, sim, spentUsd } = await proxyCaller();
      const res = await raw('/images/generations', { model: 'gpt-image-2', prompt: 'a boot', ...ask });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: Record<string, string> };
      expect(error).toMatchObject({
        type: 'invalid_request_error',
        code: 'invalid_request',
        param: 'n',
        request_id: expect.stringMatching(/^req_/),
      });
      expect(error.message).toContain('10,485,760 pixels');
      expect(await simRequests(sim)).toEqual({});
      expect(await spentUsd()).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
    },
  );

  it('serves requests at the cap: ten 1024x1024 images, or one 3840x2160', async () => {
    const { raw } = await proxyCaller();
    for (const ask of [
      { n: 10, size: '1024x1024' },
      { n: 1, size: '3840x2160' },
    ]) {
      const res = await raw('/images/generations', { model: 'gpt-image-2', prompt: 'a boot', ...ask });
      expect(res.status).toBe(200);
      expect(((await res.json()) as ImagesAnswer).data).toHaveLength(ask.n);
    }
  });

  it('relays megabytes of full-size images whole and settles exactly the usage the answer carried', async () => {
    const { raw, sim, spentUsd } = await proxyCaller();
    // Full-size PNGs (about 3.4 MB of base64 each at 1024x1024), generated in milliseconds.
    await simConfigure(sim, { profile: 'realistic', time_scale: 0.0001 });
    const res = await raw('/images/generations', {
      model: 'gpt-image-2',
      prompt: 'A leather hiking boot on a mossy rock',
      n: 2,
      size: '1024x1024',
      quality: 'low',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(text.length).toBeGreaterThan(6_000_000);
    const body = JSON.parse(text) as ImagesAnswer;
    expect(body.data.map((d) => d.b64_json.slice(0, PNG_BASE64.length))).toEqual([PNG_BASE64, PNG_BASE64]);
    const usage = imagesUsage(body.usage);
    expect(usage?.outputTokens).toBeGreaterThan(0);
    const cost = nanosToUsd(costOf(PRICE, usage as NonNullable<typeof usage>));
    expect(await spentUsd()).toMatchObject({ spent_usd: cost, reserved_usd: 0 });
    expect((await simRequests(sim))['/v1/images/generations']).toBe(1);
  });

  it('cuts the client off when the answer breaks after its first bytes, and charges the whole reservation', async () => {
    const { raw, sim, spentUsd } = await proxyCaller();
    // A 200 whose JSON stops halfway: billed by the provider, unusable, too late to retry.
    await simConfigure(sim, {
      faults: [{ kind: 'malformed', endpoint: '/v1/images/generations', times: 1 }],
    });
    const prompt = 'A rubber rain boot';
    const res = await raw('/images/generations', {
      model: 'gpt-image-2',
      prompt,
      size: '1024x1024',
      quality: 'low',
    });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    const reserved = imagesCost(
      PRICE,
      promptTokens(await loadTokenCounter(), [prompt], []),
      1,
      '1024x1024',
      'low',
    );
    expect(await spentUsd()).toMatchObject({ spent_usd: nanosToUsd(reserved), reserved_usd: 0 });
    expect((await simRequests(sim))['/v1/images/generations']).toBe(1);
  });
});
