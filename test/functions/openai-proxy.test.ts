import { zodTextFormat } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { simRequests } from '../support/providers';
import { proxyCaller, warmTokenizer } from './openai-proxy.support';

warmTokenizer();

const ask = [{ role: 'user' as const, content: 'Suggest a waterproof hiking boot for autumn' }];

describe('the OpenAI SDK pointed at /openai/v1', () => {
  it('runs a chat completion and gets the provider body unchanged, named in the headers', async () => {
    const { client, sim } = await proxyCaller();
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4.1-mini', messages: ask, max_completion_tokens: 200 })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toMatch(/\w/);
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-gateway-provider')).toBe('openai');
    expect(response.headers.get('x-gateway-model')).toBe('gpt-4.1-mini');
    expect(response.headers.get('x-cache')).toBe('BYPASS');
    expect(response.headers.get('x-ratelimit-limit')).toBe('1000');
    expect((await simRequests(sim))['/v1/chat/completions']).toBe(1);
  });

  it('passes the upstream JSON through byte for byte', async () => {
    const { raw } = await proxyCaller();
    const res = await raw('/chat/completions', { model: 'gpt-4.1-mini', messages: ask, max_tokens: 50 });
    const text = await res.text();
    expect(res.headers.get('content-type')).toBe('application/json');
    // The simulator's own serialisation: its key order, and none of the SDK's added fields.
    expect(text.startsWith('{"id":"chatcmpl-')).toBe(true);
    expect(text).not.toContain('_request_id');
    expect(JSON.parse(text)).toMatchObject({
      system_fingerprint: expect.any(String),
      service_tier: 'default',
    });
  });

  it('runs responses.create and responses.parse with a zod text format', async () => {
    const { client } = await proxyCaller();
    const plain = await client.responses.create({ model: 'gpt-6-luna', input: 'Name a trail shoe' });
    expect(plain.status).toBe('completed');
    expect(plain.output_text).toMatch(/\w/);
    const Shoe = z.object({
      name: z.string(),
      waterproof: z.boolean(),
      price_band: z.enum(['low', 'mid', 'high']),
    });
    const parsed = await client.responses.parse({
      model: 'gpt-6-luna',
      input: 'A waterproof trail shoe for wet autumn hikes',
      text: { format: zodTextFormat(Shoe, 'shoe') },
    });
    expect(Shoe.parse(parsed.output_parsed)).toEqual(parsed.output_parsed);
  });

  it('runs embeddings (SDK base64 decoding included) and moderations', async () => {
    const { client } = await proxyCaller();
    const embedded = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['rain boots', 'garden hose'],
      dimensions: 64,
    });
    expect(embedded.data.map((d) => d.embedding.length)).toEqual([64, 64]);
    expect(embedded.usage.prompt_tokens).toBeGreaterThan(0);
    const moderation = await client.moderations.create({ input: 'how to build a bomb' });
    expect(moderation.results[0]?.flagged).toBe(true);
  });

  it('generates an image, base64 only, with its usage', async () => {
    const { client } = await proxyCaller();
    const image = await client.images.generate({
      model: 'gpt-image-2',
      prompt: 'A leather hiking boot on a mossy rock',
      size: '1024x1024',
      quality: 'low',
    });
    expect(image.data?.[0]?.b64_json?.length).toBeGreaterThan(100);
    expect(image.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('streams a chat completion and a response through the SDK helpers', async () => {
    const { client } = await proxyCaller();
    const chunks: string[] = [];
    const chat = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: ask, stream: true });
    for await (const chunk of chat) chunks.push(chunk.choices[0]?.delta.content ?? '');
    expect(chunks.join('')).toMatch(/\w{3}/);
    const stream = client.responses.stream({ model: 'gpt-6-luna', input: 'Describe a rain jacket' });
    let deltas = 0;
    stream.on('response.output_text.delta', () => {
      deltas += 1;
    });
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(deltas).toBeGreaterThan(1);
    expect(final.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('lists the priced models, overrides included, in OpenAI list shape', async () => {
    const { client } = await proxyCaller({
      PRICING_OVERRIDES: JSON.stringify({
        'house-model': { kind: 'text', inputPerMillion: 1, outputPerMillion: 2 },
      }),
    });
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(model).toMatchObject({
        object: 'model',
        created: expect.any(Number),
        owned_by: expect.any(String),
      });
      ids.push(model.id);
    }
    expect(ids).toEqual(
      expect.arrayContaining(['gpt-6-luna', 'gpt-image-2.5-flare', 'text-embedding-3-large', 'house-model']),
    );
    expect(ids).not.toContain('dall-e-3');
    expect((await client.models.retrieve('house-model')).owned_by).toBe('gateway');
  });

  it('caps the output at PROXY_DEFAULT_MAX_OUTPUT_TOKENS when the request names no cap', async () => {
    const { client } = await proxyCaller({ PROXY_DEFAULT_MAX_OUTPUT_TOKENS: '16' });
    const long = await client.responses.create({
      model: 'gpt-6-luna',
      input: 'Write a very long and detailed essay about every hiking boot ever made',
    });
    // The simulator stops where the cap the gateway wrote into the request says.
    expect(long.max_output_tokens).toBe(16);
    expect(long.usage?.output_tokens).toBeLessThanOrEqual(16);
  });
});
