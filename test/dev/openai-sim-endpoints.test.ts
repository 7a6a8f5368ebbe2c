import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/openai-sim/index.ts';

let sim: RunningSimulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator();
  client = new OpenAI({ apiKey: 'sim-endpoints-test', baseURL: `${sim.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

describe('moderations', () => {
  it('flags text with a listed word and clears harmless text, with all 13 categories', async () => {
    const result = await client.moderations.create({
      model: 'omni-moderation-latest',
      input: ['How do I build a bomb?', 'What a lovely scarf'],
    });
    expect(result.id).toMatch(/^modr-/);
    const [bad, good] = result.results;
    expect(bad?.flagged).toBe(true);
    expect(bad?.categories['illicit/violent']).toBe(true);
    expect(bad?.categories.illicit).toBe(true);
    expect(bad?.category_scores['illicit/violent']).toBeGreaterThan(0.5);
    expect(good?.flagged).toBe(false);
    expect(Object.keys(good?.categories ?? {})).toHaveLength(13);
    expect(Object.values(good?.category_scores ?? {}).every((score) => score >= 0 && score < 0.01)).toBe(
      true,
    );
    expect(good?.category_applied_input_types.hate).toEqual(['text']);
  });

  it('flags an image whose URL carries the sim-flag marker', async () => {
    const input = (url: string) => [
      { type: 'text' as const, text: 'product photo' },
      { type: 'image_url' as const, image_url: { url } },
    ];
    const flagged = await client.moderations.create({
      model: 'omni-moderation-latest',
      input: input('https://cdn.test/sim-flag.png'),
    });
    const clean = await client.moderations.create({
      model: 'omni-moderation-latest',
      input: input('https://cdn.test/shoe.png'),
    });
    expect(flagged.results).toHaveLength(1);
    expect(flagged.results[0]?.flagged).toBe(true);
    expect(flagged.results[0]?.categories.violence).toBe(true);
    expect(flagged.results[0]?.category_applied_input_types.violence).toEqual(['text', 'image']);
    expect(flagged.results[0]?.category_applied_input_types.hate).toEqual(['text']);
    expect(clean.results[0]?.flagged).toBe(false);
  });

  it('flags every image when a config sets flag_images, and rejects a non-boolean', async () => {
    const key = `sim-flag-images-${Date.now()}`;
    const set = (body: unknown) =>
      fetch(`${sim.url}/_sim/config?key=${key}`, { method: 'POST', body: JSON.stringify(body) });
    expect((await set({ moderation: { flag_images: 'yes' } })).status).toBe(400);
    expect((await set({ moderation: { flag_images: true } })).status).toBe(200);
    const scoped = new OpenAI({ apiKey: key, baseURL: `${sim.url}/v1`, maxRetries: 0 });
    const input = [{ type: 'image_url' as const, image_url: { url: 'https://cdn.test/shoe.png' } }];
    const flagged = await scoped.moderations.create({ model: 'omni-moderation-latest', input });
    const elsewhere = await client.moderations.create({ model: 'omni-moderation-latest', input });
    expect(flagged.results[0]?.flagged).toBe(true);
    expect(elsewhere.results[0]?.flagged).toBe(false);
  });
});

describe('images', () => {
  it('returns n real PNGs as base64 with token usage', async () => {
    const result = await client.images.generate({
      model: 'gpt-image-2',
      prompt: 'A red running shoe',
      n: 2,
      size: '1536x1024',
    });
    expect(result).toMatchObject({
      output_format: 'png',
      size: '1536x1024',
      quality: 'medium',
      background: 'opaque',
    });
    expect(result.data).toHaveLength(2);
    for (const image of result.data ?? []) {
      const png = Buffer.from(image.b64_json ?? '', 'base64');
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([96, 64]);
    }
    expect(result.usage?.input_tokens_details).toEqual({
      image_tokens: 0,
      text_tokens: result.usage?.input_tokens,
    });
    expect(result.usage?.output_tokens_details?.image_tokens).toBe(result.usage?.output_tokens);
    expect(result.usage?.total_tokens).toBe(
      (result.usage?.input_tokens ?? 0) + (result.usage?.output_tokens ?? 0),
    );
  });

  it('derives the colours from the prompt', async () => {
    const generate = (prompt: string) =>
      client.images.generate({ model: 'gpt-image-2', prompt }).then((r) => r.data?.[0]?.b64_json);
    expect(await generate('a green hat')).toBe(await generate('a green hat'));
    expect(await generate('a green hat')).not.toBe(await generate('a yellow hat'));
  });

  it('makes an image from a sim-flag prompt that moderation flags as a data URL', async () => {
    const image = await client.images.generate({ model: 'gpt-image-2', prompt: 'poster sim-flag' });
    const url = `data:image/png;base64,${image.data?.[0]?.b64_json}`;
    const result = await client.moderations.create({ input: [{ type: 'image_url', image_url: { url } }] });
    expect(result.results[0]?.flagged).toBe(true);
  });
});

describe('embeddings', () => {
  const norm = (vector: number[]) => Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));

  it('returns unit vectors of the model default length that the SDK decodes from base64', async () => {
    const result = await client.embeddings.create({
      model: 'text-embedding-3-large',
      input: ['red shoes', 'blue scarf'],
    });
    expect(result.object).toBe('list');
    expect(result.data.map((d) => d.index)).toEqual([0, 1]);
    expect(result.data[0]?.embedding).toHaveLength(3072);
    expect(norm(result.data[0]?.embedding ?? [])).toBeCloseTo(1, 5);
    expect(result.usage.total_tokens).toBe(result.usage.prompt_tokens);
    const float = await client.embeddings.create({
      model: 'text-embedding-3-large',
      input: 'red shoes',
      encoding_format: 'float',
    });
    expect(float.data[0]?.embedding).toEqual(result.data[0]?.embedding);
    expect(result.data[1]?.embedding).not.toEqual(result.data[0]?.embedding);
  });

  it('honours dimensions and model defaults', async () => {
    const short = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'red shoes',
      dimensions: 256,
    });
    expect(short.data[0]?.embedding).toHaveLength(256);
    expect(norm(short.data[0]?.embedding ?? [])).toBeCloseTo(1, 5);
    const ada = await client.embeddings.create({ model: 'text-embedding-ada-002', input: 'red shoes' });
    expect(ada.data[0]?.embedding).toHaveLength(1536);
  });

  it('returns raw little-endian float32 base64 when asked explicitly', async () => {
    const result = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'x',
      dimensions: 8,
      encoding_format: 'base64',
    });
    const raw = result.data[0]?.embedding as unknown as string;
    const bytes = Buffer.from(raw, 'base64');
    expect(bytes).toHaveLength(32);
    const values = Array.from({ length: 8 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(norm(values)).toBeCloseTo(1, 5);
  });
});
