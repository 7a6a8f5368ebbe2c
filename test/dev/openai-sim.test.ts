import OpenAI from 'openai';
import { LengthFinishReasonError } from 'openai/error';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type RunningSimulator, startSimulator } from '../../dev/openai-sim/index.ts';

const Listing = z.object({
  title: z.string().max(40),
  description: z.string(),
  attributes: z.object({ colour: z.string(), material: z.string().nullable() }),
  tags: z.array(z.string()).min(1).max(3),
  condition: z.enum(['new', 'used', 'refurbished']),
  price: z.number().min(0).max(500),
  discount: z.number().int().nullable(),
});

type ErrorBody = { error: Record<string, unknown> };

const SHOE_INPUT = 'Write a listing for red trail running shoes with breathable mesh';

let sim: RunningSimulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator();
  client = new OpenAI({ apiKey: 'sim-main-test', baseURL: `${sim.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

describe('responses', () => {
  const parseListing = () =>
    client.responses.parse({
      model: 'gpt-4.1',
      input: SHOE_INPUT,
      text: { format: zodTextFormat(Listing, 'listing') },
    });

  it('returns output_parsed that validates against the zod schema and echoes the input', async () => {
    const response = await parseListing();
    expect(response.status).toBe('completed');
    expect(Listing.parse(response.output_parsed)).toEqual(response.output_parsed);
    const titleWords = response.output_parsed?.title.toLowerCase().split(' ') ?? [];
    expect(titleWords.some((word) => SHOE_INPUT.toLowerCase().includes(word))).toBe(true);
  });

  it('returns identical output for identical input and different output for different input', async () => {
    const [first, second] = await Promise.all([parseListing(), parseListing()]);
    expect(first.output_parsed).toEqual(second.output_parsed);
    expect(first.id).not.toBe(second.id);
    const other = await client.responses.parse({
      model: 'gpt-4.1',
      input: 'Describe a blue wool scarf',
      text: { format: zodTextFormat(Listing, 'listing') },
    });
    expect(other.output_parsed).not.toEqual(first.output_parsed);
  });

  it('returns the full Response object with usage and a request id', async () => {
    const { data, response, request_id } = await client.responses
      .create({ model: 'gpt-4.1', instructions: 'Be brief.', input: 'Tell me about hiking boots' })
      .withResponse();
    expect(data).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'gpt-4.1',
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      output: [
        {
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', annotations: [] }],
        },
      ],
    });
    expect(data.id).toMatch(/^resp_/);
    expect(data.output[0]?.id).toMatch(/^msg_/);
    expect(data.output_text).toMatch(/hiking|boots/);
    const usage = data.usage;
    expect(usage?.input_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: 0 });
    expect(usage?.output_tokens_details).toEqual({ reasoning_tokens: 0 });
    expect(usage?.total_tokens).toBe((usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0));
    expect(request_id).toMatch(/^req_/);
    expect(response.headers.get('x-request-id')).toBe(request_id);
    expect(response.headers.get('openai-processing-ms')).toMatch(/^\d+$/);
    expect(Number(response.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(
      Number(response.headers.get('x-ratelimit-limit-requests')),
    );
    for (const name of [
      'x-ratelimit-reset-requests',
      'x-ratelimit-limit-tokens',
      'x-ratelimit-remaining-tokens',
      'x-ratelimit-reset-tokens',
    ]) {
      expect(response.headers.get(name), name).toBeTruthy();
    }
  });

  it('accepts message arrays with images and charges image input tokens', async () => {
    const textOnly = await client.responses.create({
      model: 'gpt-4.1-mini',
      input: [{ role: 'user', content: 'What is this?' }],
    });
    const withImage = await client.responses.create({
      model: 'gpt-4.1-mini',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'https://example.com/shoe.jpg', detail: 'auto' },
          ],
        },
      ],
    });
    expect((withImage.usage?.input_tokens ?? 0) - (textOnly.usage?.input_tokens ?? 0)).toBe(85);
  });

  it('stops at max_output_tokens with status incomplete and truncated text', async () => {
    const response = await client.responses.parse({
      model: 'gpt-4.1',
      input: SHOE_INPUT,
      max_output_tokens: 16,
      text: { format: zodTextFormat(Listing, 'listing') },
    });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.usage?.output_tokens).toBe(16);
    expect(response.output_text.length).toBeLessThanOrEqual(64);
    expect(response.output_parsed).toBeNull();
  });

  it('rejects a non-strict schema in strict mode with a 400 like OpenAI', async () => {
    const error = await client.responses
      .create({
        model: 'gpt-4.1',
        input: 'x',
        text: {
          format: {
            type: 'json_schema',
            name: 'loose',
            strict: true,
            schema: { type: 'object', properties: { a: { type: 'string' } } },
          },
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_json_schema');
  });

  it('streams output_text deltas and a final response with usage', async () => {
    const stream = client.responses.stream({
      model: 'gpt-4.1',
      input: SHOE_INPUT,
      text: { format: zodTextFormat(Listing, 'listing') },
    });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(final.output_text);
    expect(Listing.parse(final.output_parsed)).toEqual(final.output_parsed);
    expect(final.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('streams a response.incomplete ending when max_output_tokens is reached', async () => {
    const stream = client.responses.stream({ model: 'gpt-4.1', input: SHOE_INPUT, max_output_tokens: 16 });
    const types: string[] = [];
    stream.on('event', (event) => types.push(event.type));
    const final = await stream.finalResponse();
    expect(final.status).toBe('incomplete');
    expect(final.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(types.at(0)).toBe('response.created');
    expect(types.at(-1)).toBe('response.incomplete');
  });
});

describe('chat completions', () => {
  it('parses a zodResponseFormat answer with usage', async () => {
    const completion = await client.chat.completions.parse({
      model: 'gpt-4.1',
      messages: [
        { role: 'system', content: 'You write product listings.' },
        { role: 'user', content: SHOE_INPUT },
      ],
      response_format: zodResponseFormat(Listing, 'listing'),
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.refusal).toBeNull();
    expect(Listing.parse(choice?.message.parsed)).toEqual(choice?.message.parsed);
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.usage).toMatchObject({
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
  });

  it('returns n choices', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'Suggest names for a bakery' }],
      n: 3,
    });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(
      completion.choices.every((choice) => choice.message.role === 'assistant' && choice.message.content),
    ).toBe(true);
  });

  it('throws LengthFinishReasonError from parse when max_completion_tokens cuts the JSON', async () => {
    const result = client.chat.completions.parse({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: SHOE_INPUT }],
      max_completion_tokens: 5,
      response_format: zodResponseFormat(Listing, 'listing'),
    });
    await expect(result).rejects.toBeInstanceOf(LengthFinishReasonError);
  });

  it('streams content deltas and a final usage chunk when include_usage is set', async () => {
    const stream = client.chat.completions.stream({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'Suggest a name for a coffee shop' }],
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on('content.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalChatCompletion();
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(final.choices[0]?.message.content);
    expect(final.choices[0]?.finish_reason).toBe('stop');
    expect(final.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('ends a raw stream with [DONE] and sends no usage chunk unless asked', async () => {
    const res = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer raw', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).not.toContain('"usage"');
    expect(text).toContain('"object":"chat.completion.chunk"');
  });
});

describe('models and errors', () => {
  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4.1');
    expect(ids).toContain('text-embedding-3-large');
  });

  it('answers 401 invalid_api_key without a bearer token', async () => {
    const res = await fetch(`${sim.url}/v1/models`);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(await res.json()).toEqual({
      error: {
        message: expect.stringContaining('API key'),
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
  });

  it('answers 404 for an unknown route and 400 for bad JSON in the OpenAI error shape', async () => {
    const headers = { authorization: 'Bearer k', 'content-type': 'application/json' };
    const missing = await fetch(`${sim.url}/v1/nope`, { method: 'POST', headers, body: '{}' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error).toMatchObject({
      type: 'invalid_request_error',
      message: 'Invalid URL (POST /v1/nope)',
    });
    const bad = await fetch(`${sim.url}/v1/responses`, { method: 'POST', headers, body: '{"model":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error).toMatchObject({
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  });
});
