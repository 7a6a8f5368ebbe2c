import { beforeAll, describe, expect, it } from 'vitest';
import { createPriceTable, estimateImageCost, MODEL_PRICES, type ModelPrice } from '../../lib/pricing';
import { cacheModeOf, proxyCacheKeyParts } from '../../lib/proxy/cache-policy';
import {
  capOutput,
  embeddingTokens,
  imagesCost,
  promptTokens,
  worstTextCost,
} from '../../lib/proxy/estimate';
import { ImageSize } from '../../lib/proxy/image-schemas';
import { servedModel, servedModels } from '../../lib/proxy/models';
import { chatUsage, responsesUsage } from '../../lib/proxy/usage';
import { IMAGE_INPUT_TOKENS, loadTokenCounter, type TokenCounter } from '../../lib/tokens';

let counter: TokenCounter;
beforeAll(async () => {
  counter = await loadTokenCounter();
}, 120_000);

const limits = { defaultTokens: 1000, maxTokens: 4000 };
const price = (model: string) => MODEL_PRICES[model] as ModelPrice;

describe('capOutput', () => {
  it('keeps a cap the client named, checking the first field set', () => {
    const body = { model: 'm', max_tokens: 50 };
    expect(capOutput(body, ['max_completion_tokens', 'max_tokens'], 'max_completion_tokens', limits)).toEqual(
      {
        body,
        maxOutputTokens: 50,
      },
    );
  });

  it('writes the default cap into a request that names none, so upstream stops where the reservation does', () => {
    expect(capOutput({ model: 'm' }, ['max_output_tokens'], 'max_output_tokens', limits)).toEqual({
      body: { model: 'm', max_output_tokens: 1000 },
      maxOutputTokens: 1000,
    });
  });

  it('refuses a cap above the maximum, naming the field', () => {
    expect(() => capOutput({ max_tokens: 4001 }, ['max_tokens'], 'max_tokens', limits)).toThrow(
      expect.objectContaining({ status: 400, param: 'max_tokens' }),
    );
  });
});

describe('promptTokens', () => {
  it('counts every message string with overhead, and an image part as a fixed allowance, not its URL', () => {
    const text = promptTokens(counter, [{ role: 'user', content: 'hello world' }], []);
    const url = `data:image/png;base64,${'A'.repeat(50_000)}`;
    const withImage = promptTokens(
      counter,
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hello world' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
      [],
    );
    expect(withImage - text).toBeGreaterThanOrEqual(IMAGE_INPUT_TOKENS);
    expect(withImage - text).toBeLessThan(IMAGE_INPUT_TOKENS + 10);
  });

  it('grows with tools and response formats', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const tool = { type: 'function', function: { name: 'lookup_inventory', parameters: { type: 'object' } } };
    expect(promptTokens(counter, messages, [[tool]])).toBeGreaterThan(promptTokens(counter, messages, []));
  });
});

describe('costs reserved', () => {
  it('reserves the dearest candidate for every output token of every choice', () => {
    const cheap = price('gpt-4.1-mini');
    const dear = price('gpt-4.1');
    expect(worstTextCost([cheap, dear], 100, 1000)).toBe(worstTextCost([dear], 100, 1000));
    expect(worstTextCost([cheap], 100, 2000)).toBeGreaterThan(worstTextCost([cheap], 100, 1000));
  });

  it('prices n images with the prompt once, and auto quality as high', () => {
    const image = price('gpt-image-2');
    const one = estimateImageCost(image, 20, '1024x1024', 'high');
    expect(imagesCost(image, 20, 1, '1024x1024', 'auto')).toBe(one);
    expect(imagesCost(image, 20, 3, '1024x1024', 'high')).toBe(
      one + 2 * estimateImageCost(image, 0, '1024x1024', 'high'),
    );
  });

  it('counts embedding strings with a margin and token arrays as given', () => {
    expect(embeddingTokens(counter, [1, 2, 3])).toBe(3);
    expect(embeddingTokens(counter, [[1, 2], [3]])).toBe(3);
    expect(embeddingTokens(counter, ['rain boots', 'hose'])).toBeGreaterThan(16);
  });
});

describe('models served', () => {
  const prices = createPriceTable({
    'house-model': { kind: 'text', inputPerMillion: 1, outputPerMillion: 2 },
  });

  it('lists every priced model, built-in then overrides', () => {
    const ids = servedModels(prices, { 'house-model': {} }).map((m) => m.id);
    expect(ids.at(-1)).toBe('house-model');
    expect(ids).toContain('gpt-6-luna');
  });

  it('serves a dated snapshot of a priced model, and refuses the wrong kind', () => {
    expect(servedModel(prices, 'gpt-4.1-2025-04-14', 'text').kind).toBe('text');
    expect(() => servedModel(prices, 'gpt-image-2', 'text')).toThrow(
      expect.objectContaining({ status: 404, code: 'model_not_found' }),
    );
  });
});

describe('cacheModeOf', () => {
  const at = (
    temperature: number | undefined,
    policy: 'deterministic' | 'sampled' | 'never' = 'sampled',
  ) => ({
    body: temperature === undefined ? {} : { temperature },
    policy,
    optIn: undefined,
    noCache: false,
  });

  it('caches temperature 0 and deterministic APIs, not sampled ones or images', () => {
    expect(cacheModeOf(at(0))).toBe('read-write');
    expect(cacheModeOf(at(undefined))).toBe('off');
    expect(cacheModeOf(at(undefined, 'deterministic'))).toBe('read-write');
    expect(cacheModeOf({ ...at(0, 'never'), optIn: 'on' })).toBe('off');
  });

  it('honours x-gateway-cache on/off and cache-control: no-cache', () => {
    expect(cacheModeOf({ ...at(1), optIn: 'On' })).toBe('read-write');
    expect(cacheModeOf({ ...at(0), optIn: 'off' })).toBe('off');
    expect(cacheModeOf({ ...at(0), noCache: true })).toBe('write-only');
  });

  it('hashes strings exactly: case and spacing change a prompt', () => {
    const parts = proxyCacheKeyParts('/chat/completions', { model: 'm', messages: [] });
    expect(parts).toMatchObject({ kind: 'openai.chat.completions', exactFields: ['model', 'messages'] });
  });
});

describe('ImageSize', () => {
  it.each(['auto', '1024x1024', '1536x1024', '3840x2160', '2160x3840'])('accepts %s', (size) => {
    expect(ImageSize.safeParse(size).success).toBe(true);
  });
  it.each(['1000x1000', '4096x4096', '3840x1024', '1024', '16x16x16'])('refuses %s', (size) => {
    expect(ImageSize.safeParse(size).success).toBe(false);
  });
});

describe('usage readers', () => {
  it('read each API’s field names, cached tokens, cache writes and reasoning included', () => {
    expect(
      chatUsage({
        prompt_tokens: 10,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 4 },
        completion_tokens_details: { reasoning_tokens: 2 },
      }),
    ).toEqual({
      inputTokens: 10,
      cachedTokens: 4,
      cacheWriteTokens: 0,
      outputTokens: 5,
      reasoningTokens: 2,
    });
    expect(
      responsesUsage({ input_tokens: 7, output_tokens: 3, output_tokens_details: { reasoning_tokens: 1 } }),
    ).toEqual({
      inputTokens: 7,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 3,
      reasoningTokens: 1,
    });
    expect(
      responsesUsage({
        input_tokens: 2048,
        output_tokens: 3,
        input_tokens_details: { cached_tokens: 0, cache_write_tokens: 1920 },
      }),
    ).toEqual({
      inputTokens: 2048,
      cachedTokens: 0,
      cacheWriteTokens: 1920,
      outputTokens: 3,
      reasoningTokens: 0,
    });
  });

  it('give up on usage they cannot trust, so the whole reservation is settled', () => {
    expect(chatUsage(null)).toBeUndefined();
    expect(chatUsage({ prompt_tokens: -1, completion_tokens: 5 })).toBeUndefined();
    expect(responsesUsage({ input_tokens: 1.5, output_tokens: 3 })).toBeUndefined();
  });
});
