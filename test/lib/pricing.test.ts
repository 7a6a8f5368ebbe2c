import { zodTextFormat } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../lib/env';
import {
  costOf,
  createPriceTable,
  estimateImageCost,
  estimateTextCost,
  type ImageQuality,
  MODEL_PRICES,
  type ModelPrice,
  nanosToUsd,
  usdToNanos,
} from '../../lib/pricing';
import { generateImage } from '../../lib/providers/images';
import { generateStructured } from '../../lib/providers/structured';
import type { PromptPart } from '../../lib/providers/structured-calls';
import { loadTokenCounter } from '../../lib/tokens';
import { FAST_POLICY, simHarness, simKey } from '../support/providers';

const { estimateInputTokens } = await loadTokenCounter();

const table = createPriceTable();
const priceOf = (model: string): ModelPrice => {
  const price = table.price(model);
  if (!price) throw new Error(`no price for ${model}`);
  return price;
};
const usage = (inputTokens: number, cachedTokens: number, outputTokens: number) => ({
  inputTokens,
  cachedTokens,
  outputTokens,
});

describe('costOf', () => {
  it('bills cached input at the cached rate, the rest at the input rate, and output', () => {
    // $1 per 1M tokens is 1,000 nanos a token. gpt-6-luna: 600 × 100 + 400 × 10 + 200 × 500.
    expect(costOf(priceOf('gpt-6-luna'), usage(1000, 400, 200))).toBe(164_000);
    // gpt-4.1 ($2 / $0.50 / $8): 1,234 × 2,000 + 567 × 8,000.
    expect(costOf(priceOf('gpt-4.1'), usage(1234, 0, 567))).toBe(2_468_000 + 4_536_000);
    expect(costOf(priceOf('gpt-4.1'), usage(1234, 1000, 0))).toBe(234 * 2000 + 1000 * 500);
    // gpt-6-astra ($10 / $1 / $50): 10 × 10,000 + 10 × 1,000 + 10 × 50,000.
    expect(costOf(priceOf('gpt-6-astra'), usage(20, 10, 10))).toBe(610_000);
    expect(costOf(priceOf('gpt-4o-mini'), usage(100, 50, 10))).toBe(50 * 150 + 50 * 75 + 10 * 600);
  });

  it('rounds up to a whole nano', () => {
    // $0.0001 per 1M is a tenth of a nano a token.
    const tiny = createPriceTable({
      tiny: { kind: 'text', inputPerMillion: 0.0001, outputPerMillion: 0.0001 },
    });
    const price = tiny.price('tiny') as ModelPrice;
    expect(costOf(price, usage(1, 0, 0))).toBe(1);
    expect(costOf(price, usage(10, 0, 0))).toBe(1);
    expect(costOf(price, usage(11, 0, 0))).toBe(2);
    expect(costOf(price, usage(10, 0, 1))).toBe(2);
    // The 1.5× long-context output rate: 1 gpt-6-luna output token is 750 nanos.
    expect(costOf(priceOf('gpt-6-luna'), usage(272_001, 0, 1))).toBe(2 * 27_200_100 + 750);
  });

  it('halves the cost on the batch tier, still rounding up', () => {
    expect(costOf(priceOf('gpt-6-luna'), usage(1000, 400, 200), 'batch')).toBe(82_000);
    expect(costOf(priceOf('gpt-4.1'), usage(0, 0, 1), 'batch')).toBe(4000);
    expect(costOf(priceOf('gpt-4o'), usage(1, 0, 0), 'batch')).toBe(1250);
    // One cached gpt-4o-mini token: 75 nanos standard, 37.5 → 38 on batch.
    expect(costOf(priceOf('gpt-4o-mini'), usage(1, 1, 0), 'batch')).toBe(38);
    expect(estimateTextCost(priceOf('gpt-6-luna'), 1000, 200, 'batch')).toBe(
      estimateTextCost(priceOf('gpt-6-luna'), 1000, 200) / 2,
    );
  });

  it('applies the long-context surcharge past 272K input tokens where the model has one', () => {
    const luna = priceOf('gpt-6-luna');
    expect(costOf(luna, usage(272_000, 0, 1000))).toBe(27_200_000 + 500_000);
    expect(costOf(luna, usage(272_001, 0, 1000))).toBe(2 * 27_200_100 + 750_000);
    expect(costOf(priceOf('gpt-4.1'), usage(300_000, 0, 0))).toBe(600_000_000);
  });

  it('costs nothing on a moderation model', () => {
    expect(costOf(priceOf('omni-moderation-latest'), usage(50_000, 0, 0))).toBe(0);
    expect(costOf(priceOf('omni-moderation-2024-09-26'), usage(50_000, 0, 10))).toBe(0);
  });

  it('prices image generation from its usage (never $0)', () => {
    // gpt-image-2.5-flare: 10 prompt tokens × $5 + 1,056 image tokens × $30 per 1M.
    expect(costOf(priceOf('gpt-image-2.5-flare'), usage(10, 0, 1056))).toBe(50_000 + 31_680_000);
    expect(costOf(priceOf('gpt-image-2'), usage(10, 0, 272))).toBe(25_000 + 4_080_000);
  });

  it('prices embeddings by input only', () => {
    expect(costOf(priceOf('text-embedding-3-large'), usage(1_000_000, 0, 0))).toBe(usdToNanos(0.13));
    expect(costOf(priceOf('text-embedding-3-small'), usage(1_000_000, 0, 0))).toBe(usdToNanos(0.02));
  });

  it('rejects token counts that are not whole and non-negative', () => {
    expect(() => costOf(priceOf('gpt-4.1'), usage(-1, 0, 0))).toThrow(RangeError);
    expect(() => costOf(priceOf('gpt-4.1'), usage(1.5, 0, 0))).toThrow(RangeError);
    expect(() => costOf(priceOf('gpt-4.1'), usage(1, 0, Number.NaN))).toThrow(RangeError);
  });
});

describe('createPriceTable', () => {
  it('covers every model the gateway is configured to use', () => {
    const models = ['gpt-6-luna', 'gpt-6.1-sol', 'gpt-6-astra', 'gpt-5.6-luna', 'gpt-5.6-terra', 'gpt-5.4'];
    models.push('gpt-5.4-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4o', 'gpt-4o-mini', 'gpt-image-2');
    models.push('gpt-image-2.5-flare', 'gpt-image-2.5-sunburst', 'text-embedding-3-large');
    models.push('text-embedding-3-small', 'text-embedding-ada-002', 'omni-moderation-latest');
    for (const model of models) expect(table.price(model), model).toBeDefined();
    expect(priceOf('gpt-6-luna')).toMatchObject({ inputPerMillion: 0.1, outputPerMillion: 0.5 });
    expect(priceOf('gpt-image-2.5-sunburst').kind).toBe('image');
  });

  it('resolves a dated snapshot to its base model', () => {
    expect(table.price('gpt-4.1-2025-04-14')).toBe(table.price('gpt-4.1'));
    expect(table.price('gpt-4o-mini-2024-07-18')).toBe(table.price('gpt-4o-mini'));
    expect(table.price('gpt-image-2-2026-04-21')).toBe(table.price('gpt-image-2'));
    expect(table.price('gpt-4.1-mini')).not.toBe(table.price('gpt-4.1'));
  });

  it('returns undefined for a model it cannot price', () => {
    expect(table.price('gpt-4-vision-preview')).toBeUndefined();
    expect(table.price('dall-e-3')).toBeUndefined();
    expect(table.price('gpt-4.1-turbo')).toBeUndefined();
    expect(table.price('')).toBeUndefined();
  });

  it('lets overrides replace a price, add a model and pin a snapshot, without touching other tables', () => {
    const custom = createPriceTable({
      'gpt-4.1': { kind: 'text', outputPerMillion: 4 },
      'shop-model': { kind: 'text', inputPerMillion: 1, outputPerMillion: 3 },
      'gpt-4o-2024-08-06': {
        kind: 'text',
        inputPerMillion: 5,
        cachedInputPerMillion: 5,
        outputPerMillion: 15,
      },
      'omni-moderation-latest': { kind: 'text', inputPerMillion: 1, outputPerMillion: 1 },
    });
    expect(custom.price('gpt-4.1')).toMatchObject({ inputPerMillion: 2, cachedInputPerMillion: 0.5 });
    expect(costOf(custom.price('gpt-4.1') as ModelPrice, usage(0, 0, 1000))).toBe(4_000_000);
    expect(custom.price('gpt-4.1-2025-04-14')?.outputPerMillion).toBe(4);
    expect(custom.price('shop-model')).toEqual({
      kind: 'text',
      inputPerMillion: 1,
      cachedInputPerMillion: 1,
      cacheWritePerMillion: 1.25,
      outputPerMillion: 3,
    });
    expect(custom.price('gpt-4o-2024-08-06')?.inputPerMillion).toBe(5);
    expect(custom.price('gpt-4o-2024-11-20')?.inputPerMillion).toBe(2.5);
    expect(costOf(custom.price('omni-moderation-latest') as ModelPrice, usage(1000, 0, 0))).toBe(1_000_000);
    expect(createPriceTable().price('gpt-4.1')?.outputPerMillion).toBe(8);
    expect(MODEL_PRICES['gpt-4.1']?.outputPerMillion).toBe(8);
  });

  it('bills cache writes at 1.25× input (gpt-6-luna: $0.125 per 1M), and reserves every input token as one', () => {
    const luna = MODEL_PRICES['gpt-6-luna'] as ModelPrice;
    expect(luna.cacheWritePerMillion).toBeCloseTo(0.125, 12);
    // 100k input: 40k read from the cache ($0.0004), 50k written to it ($0.00625), 10k plain ($0.001).
    const billed = costOf(luna, {
      inputTokens: 100_000,
      cachedTokens: 40_000,
      cacheWriteTokens: 50_000,
      outputTokens: 0,
    });
    expect(billed).toBe(400_000 + 6_250_000 + 1_000_000);
    // Writes never exceed the input that was not read from the cache: 100 cached tokens, nothing else.
    expect(
      costOf(luna, { inputTokens: 100, cachedTokens: 100, cacheWriteTokens: 100, outputTokens: 0 }),
    ).toBe(costOf(luna, { inputTokens: 100, cachedTokens: 100, outputTokens: 0 }));
    // The worst case a reservation covers: all input written to the cache.
    expect(estimateTextCost(luna, 100_000, 0)).toBe(12_500_000);
    expect(estimateTextCost(luna, 100_000, 0)).toBeGreaterThanOrEqual(billed);
  });

  it('rejects incomplete or invalid overrides with a ConfigError naming each entry', () => {
    const attempt = () =>
      createPriceTable({
        'new-model': { kind: 'text', inputPerMillion: 1 },
        'gpt-4.1': { kind: 'text', inputPerMillion: -1 },
        'new-image': {
          kind: 'image',
          inputPerMillion: 1,
          outputPerMillion: 1,
          imageOutputTokens: { low: 1, medium: 0, high: 2 },
        },
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'PRICING_OVERRIDES.new-model: outputPerMillion is required for a new model',
        'PRICING_OVERRIDES.gpt-4.1: inputPerMillion must be a non-negative number',
        'PRICING_OVERRIDES.new-image: imageOutputTokens must give positive whole low, medium and high counts',
      ]);
    }
  });
});

describe('estimateImageCost', () => {
  const flare = () => priceOf('gpt-image-2.5-flare');

  it('uses the per-quality token count at 1024x1024 and scales it by pixel area, rounding up', () => {
    expect(estimateImageCost(flare(), 10, '1024x1024', 'medium')).toBe(50_000 + 1056 * 30_000);
    expect(estimateImageCost(flare(), 10, '1536x1024', 'high')).toBe(50_000 + 6240 * 30_000);
    // 272 × (1040 × 1024) / 1024² = 276.25 → 277 tokens.
    expect(estimateImageCost(flare(), 0, '1040x1024', 'low')).toBe(277 * 30_000);
    expect(estimateImageCost(flare(), 10, 'auto', 'low')).toBe(
      estimateImageCost(flare(), 10, '1536x1024', 'low'),
    );
    expect(estimateImageCost(flare(), 10, '1024x1024', 'low', 'batch')).toBe((50_000 + 272 * 30_000) / 2);
  });

  it('refuses a malformed size or a price that is not an image model', () => {
    expect(() => estimateImageCost(flare(), 10, 'big', 'low')).toThrow(RangeError);
    expect(() => estimateImageCost(priceOf('gpt-6-luna'), 10, '1024x1024', 'low')).toThrow(/image token/);
  });
});

describe('usdToNanos and nanosToUsd', () => {
  it('convert between dollars and integer nano-dollars', () => {
    expect(usdToNanos(100)).toBe(100_000_000_000);
    expect(usdToNanos(0.1)).toBe(100_000_000);
    expect(usdToNanos(0.000000001)).toBe(1);
    expect(nanosToUsd(164_000)).toBe(0.000164);
    expect(nanosToUsd(usdToNanos(12.34))).toBe(12.34);
    expect(() => usdToNanos(Number.NaN)).toThrow(RangeError);
  });
});

const Copy = z.object({
  title: z.string().max(60),
  bullets: z.array(z.string().max(80)).max(4),
  tone: z.enum(['friendly', 'premium']),
});
const INSTRUCTIONS = 'You write short, factual product copy for an outdoor shop.';
const PROSE = 'Waterproof leather hiking boots with a Vibram sole, sizes 38 to 47, in brown and black.';
const modelsWith = (text: string, image: string) => ({
  text,
  vision: text,
  image,
  embeddings: 'text-embedding-3-small',
  moderation: 'omni-moderation-latest',
});

describe('estimates cover what the simulator bills', () => {
  const cases: Array<{ model: string; capability: 'text' | 'vision'; input: string | PromptPart[] }> = [
    { model: 'gpt-6-luna', capability: 'text', input: PROSE },
    { model: 'gpt-4.1-mini', capability: 'text', input: PROSE.repeat(6) },
    { model: 'gpt-6-astra', capability: 'text', input: PROSE },
    {
      model: 'gpt-6-luna',
      capability: 'vision',
      input: [
        { type: 'text', text: PROSE },
        { type: 'image', url: 'https://example.com/boots.png' },
      ],
    },
  ];

  it.each(cases)('structured $capability call on $model', async ({ model, capability, input }) => {
    const h = simHarness(simKey(), { models: modelsWith(model, 'gpt-image-2') });
    const maxOutputTokens = 600;
    const result = await generateStructured(h.deps, FAST_POLICY, {
      name: 'copy',
      schema: Copy,
      instructions: INSTRUCTIONS,
      input,
      maxOutputTokens,
      capability,
    });
    // One call: a repair call would bill a second one, which a single-call estimate does not cover.
    expect(result.repairs).toBe(0);
    expect(result.model).toBe(model);
    const price = priceOf(result.model);
    const schema = zodTextFormat(Copy, 'copy').schema;
    const inputTokens = estimateInputTokens({ instructions: INSTRUCTIONS, input, schema });
    const billed = costOf(price, result.usage);
    expect(billed).toBeGreaterThan(0);
    expect(inputTokens).toBeGreaterThanOrEqual(result.usage.inputTokens);
    expect(estimateTextCost(price, inputTokens, maxOutputTokens)).toBeGreaterThanOrEqual(billed);
    // Even with the tightest cap that would not have cut this answer short.
    expect(estimateTextCost(price, inputTokens, result.usage.outputTokens)).toBeGreaterThanOrEqual(billed);
  });

  const images: Array<{ model: string; size: string; quality: ImageQuality }> = [
    { model: 'gpt-image-2.5-flare', size: '1024x1024', quality: 'low' },
    { model: 'gpt-image-2.5-flare', size: '1536x1024', quality: 'medium' },
    { model: 'gpt-image-2.5-flare', size: '1024x1536', quality: 'high' },
    { model: 'gpt-image-2', size: '1024x1024', quality: 'medium' },
    { model: 'gpt-image-2', size: '1040x1024', quality: 'low' },
  ];

  it.each(images)('image on $model at $size, $quality', async ({ model, size, quality }) => {
    const h = simHarness(simKey(), { models: modelsWith('gpt-6-luna', model) });
    const prompt = `Studio photo: ${PROSE}`;
    const served = await generateImage(h.deps, FAST_POLICY, { prompt, size, quality });
    expect(served.model).toBe(model);
    const price = priceOf(served.model);
    const billed = costOf(price, served.value.usage);
    expect(billed).toBeGreaterThan(0);
    const estimate = estimateImageCost(price, estimateInputTokens({ input: prompt }), size, quality);
    expect(estimate).toBeGreaterThanOrEqual(billed);
  });
});
