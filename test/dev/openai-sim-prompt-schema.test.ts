import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type RunningSimulator, type SimFault, startSimulator } from '../../dev/openai-sim/index.ts';

// Deliberately not strict-mode compatible: an optional property, a loose object, `$schema`.
const Listing = z.object({
  title: z.string().max(40),
  summary: z.string().optional(),
  tags: z.array(z.string()).min(1).max(3),
  price: z.number().min(0).max(500),
  condition: z.enum(['new', 'used']),
  seller: z.looseObject({ name: z.string(), rating: z.number().int().min(1).max(5).nullable() }),
});
const LISTING_SCHEMA = z.toJSONSchema(Listing);

const USER_INPUT = 'Write a listing for a green canvas hiking backpack';

let sim: RunningSimulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator();
  client = new OpenAI({ apiKey: `prompt-${randomUUID()}`, baseURL: `${sim.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

/** The system message the gateway writes for providers without native structured outputs. */
function gatewaySystem(instructions: string, schemaText: string = JSON.stringify(LISTING_SCHEMA)): string {
  return (
    `${instructions}\n\nReply with only a JSON object, no prose and no code fence, ` +
    `valid against this JSON Schema:\n${schemaText}`
  );
}

function request(
  system: string,
  extra: Partial<ChatCompletionCreateParamsNonStreaming> = {},
  role: 'system' | 'developer' = 'system',
): ChatCompletionCreateParamsNonStreaming {
  const messages: ChatCompletionMessageParam[] = [
    { role, content: system },
    { role: 'user', content: USER_INPUT },
  ];
  return { model: 'llama-3.1-70b', messages, ...extra };
}

async function content(params: ChatCompletionCreateParamsNonStreaming, target = client): Promise<string> {
  const completion = await target.chat.completions.create(params);
  return completion.choices[0]?.message.content ?? '';
}

async function scopedClient(...faults: SimFault[]): Promise<OpenAI> {
  const key = `prompt-${randomUUID()}`;
  const res = await fetch(`${sim.url}/_sim/config?key=${key}`, {
    method: 'POST',
    body: JSON.stringify({ faults }),
  });
  expect(res.status).toBe(200);
  return new OpenAI({ apiKey: key, baseURL: `${sim.url}/v1`, maxRetries: 0 });
}

describe('prompt-following JSON in chat completions', () => {
  it('answers JSON valid against a non-strict schema from the system prompt', async () => {
    expect(LISTING_SCHEMA).toHaveProperty('$schema');
    expect(LISTING_SCHEMA.required).not.toContain('summary');
    const text = await content(request(gatewaySystem('You write product listings.')));
    const listing = Listing.parse(JSON.parse(text));
    expect(listing.title.toLowerCase()).toMatch(/green|canvas|hiking|backpack|listing/);
  });

  it('accepts that schema here although strict response_format rejects it', async () => {
    const strict = client.chat.completions.create({
      ...request('You write product listings.'),
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'listing', strict: true, schema: LISTING_SCHEMA },
      },
    });
    await expect(strict).rejects.toMatchObject({ status: 400, code: 'invalid_json_schema' });
    const text = await content(request(gatewaySystem('You write product listings.')));
    expect(Listing.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it('is deterministic and follows a developer message with response_format text', async () => {
    const params = request(gatewaySystem('Be factual.'), { response_format: { type: 'text' } }, 'developer');
    const [first, second] = await Promise.all([content(params), content(params)]);
    expect(first).toBe(second);
    expect(Listing.safeParse(JSON.parse(first)).success).toBe(true);
    const other = await content({
      ...params,
      messages: [params.messages[0] as ChatCompletionMessageParam, { role: 'user', content: 'A red kayak' }],
    });
    expect(other).not.toBe(first);
  });

  it('streams the same JSON in content deltas', async () => {
    const params = request(gatewaySystem('You write product listings.'));
    const stream = client.chat.completions.stream({ model: params.model, messages: params.messages });
    const deltas: string[] = [];
    stream.on('content.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalChatCompletion();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(await content(params));
    expect(Listing.safeParse(JSON.parse(final.choices[0]?.message.content ?? '')).success).toBe(true);
  });

  it('reads the schema from a content-part system message with text after it', async () => {
    const schema = { type: 'object', properties: { sku: { type: 'string', pattern: '^SKU-\\d{4}$' } } };
    const text = await content({
      model: 'llama-3.1-70b',
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: `${gatewaySystem('Catalogue.', JSON.stringify(schema))}\nThanks.` },
          ],
        },
        { role: 'user', content: USER_INPUT },
      ],
    });
    expect(JSON.parse(text)).toEqual({ sku: expect.stringMatching(/^SKU-\d{4}$/) });
  });

  it('answers plain text when the text after the marker is not a JSON object', async () => {
    for (const schemaText of ['{"type": "object", "properties": ', 'see below', '["a"]']) {
      const text = await content(request(gatewaySystem('You write product listings.', schemaText)));
      expect(text.length).toBeGreaterThan(0);
      expect(() => JSON.parse(text), schemaText).toThrow(SyntaxError);
    }
  });

  it('ignores the marker in a user message and lets response_format json_schema win', async () => {
    const inUser = await content({
      model: 'llama-3.1-70b',
      messages: [{ role: 'user', content: gatewaySystem(USER_INPUT) }],
    });
    expect(() => JSON.parse(inUser)).toThrow(SyntaxError);
    const sku = { type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] };
    const withFormat = await content({
      ...request(gatewaySystem('You write product listings.')),
      response_format: { type: 'json_schema', json_schema: { name: 'sku', schema: sku } },
    });
    expect(Object.keys(JSON.parse(withFormat) as object)).toEqual(['sku']);
  });
});

describe('content faults on prompt-following JSON', () => {
  it('breaks the schema once with schema_violation times 1, then the repair call succeeds', async () => {
    const faulty = await scopedClient({ kind: 'schema_violation', times: 1 });
    const params = request(gatewaySystem('You write product listings.'));
    const broken: unknown = JSON.parse(await content(params, faulty));
    expect(Listing.safeParse(broken).success).toBe(false);
    const repaired: unknown = JSON.parse(await content(params, faulty));
    expect(Listing.parse(repaired)).toEqual(repaired);
  });

  it('does not count a schema_violation on a plain-text call', async () => {
    const faulty = await scopedClient({ kind: 'schema_violation', times: 1 });
    const plain = await content(
      { model: 'llama-3.1-70b', messages: [{ role: 'user', content: USER_INPUT }] },
      faulty,
    );
    expect(() => JSON.parse(plain)).toThrow(SyntaxError);
    const broken: unknown = JSON.parse(await content(request(gatewaySystem('Listings.')), faulty));
    expect(Listing.safeParse(broken).success).toBe(false);
  });

  it('refuses with content null on refusal', async () => {
    const faulty = await scopedClient({ kind: 'refusal' });
    const completion = await faulty.chat.completions.create(request(gatewaySystem('Listings.')));
    expect(completion.choices[0]?.message).toMatchObject({
      content: null,
      refusal: "I'm sorry, I cannot assist with that request.",
    });
  });
});
