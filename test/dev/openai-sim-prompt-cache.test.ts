import type OpenAI from 'openai';
import type { Response } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { parseSimConfig, type SimConfig } from '../../dev/openai-sim/config.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

// Prompt caching on every profile (dev/openai-sim/prompt-cache.ts). These run on the instant profile, the
// default: caching that held only on the realistic one would be a guarantee the gateway never gets tested on.
const { control, scopedClient, invoice } = useSimulator();

/** The simulator's token is 4 characters (dev/openai-sim/tokens.ts): `tokens` tokens of `letter`. */
const text = (tokens: number, letter: string) => letter.repeat(tokens * 4);
/** Static instructions of 1,100 tokens, the shared head of the prompts below. */
const INSTRUCTIONS = text(1100, 'i');
/** `n` rounded down to a multiple of 128, as OpenAI reports cache reads and writes. */
const step = (n: number) => Math.floor(n / 128) * 128;

const details = (response: Response) => response.usage?.input_tokens_details;
const ask = (client: OpenAI, input: string, extra: Record<string, unknown> = {}) =>
  client.responses.create({ model: 'gpt-6-luna', instructions: INSTRUCTIONS, input, ...extra });

describe('prefix matching', () => {
  it('reads the longest shared prefix of 1,024+ tokens in 128-token steps on Responses', async () => {
    const { client } = await scopedClient({});
    const first = await ask(client, `Question A: ${text(500, 'a')}`);
    const input = first.usage?.input_tokens as number;
    expect(details(first)).toEqual({ cached_tokens: 0, cache_write_tokens: step(input) });
    // Shared: the instructions, the line break and "user: Question " = 4,416 characters, 1,104 tokens.
    const other = await ask(client, `Question B: ${text(500, 'b')}`);
    expect(details(other)).toEqual({ cached_tokens: 1024, cache_write_tokens: step(input) - 1024 });
    // The whole first prompt is a prefix of this one: 4,400 + 1 + 6 + 12 + 2,000 characters, 1,604 tokens.
    const longer = await ask(client, `Question A: ${text(500, 'a')} and more: ${text(300, 'c')}`);
    expect(details(longer)?.cached_tokens).toBe(1536);
    expect(details(longer)?.cache_write_tokens).toBe(step(longer.usage?.input_tokens as number) - 1536);
  });

  it('puts system messages, the schema and the tools before the chat messages', async () => {
    const { client } = await scopedClient({});
    const chat = (question: string, order: 'system first' | 'system last') => {
      const system = { role: 'system' as const, content: INSTRUCTIONS };
      const user = { role: 'user' as const, content: question };
      return client.chat.completions.create({
        model: 'gpt-4.1-mini',
        messages: order === 'system first' ? [system, user] : [user, system],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      });
    };
    const first = await chat(`Which boot? ${text(400, 'a')}`, 'system first');
    const usage = first.usage as OpenAI.CompletionUsage;
    expect(usage.prompt_tokens_details).toMatchObject({ cached_tokens: 0 });
    expect(usage.prompt_tokens_details).toHaveProperty('cache_write_tokens', step(usage.prompt_tokens));
    // A different question after the same system message and tools: the 1,100 tokens ahead of it are read.
    const second = (await chat(`Which tent? ${text(400, 'b')}`, 'system last')).usage;
    expect(second?.prompt_tokens_details?.cached_tokens).toBe(1024);
    const keyed = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'system', content: INSTRUCTIONS }],
      prompt_cache_key: 'tents',
    });
    expect(keyed.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it('counts an image as its 85 tokens, and a different image breaks the prefix', async () => {
    const { client } = await scopedClient({});
    const look = (image: string, question: string) =>
      client.responses.create({
        model: 'gpt-6-luna',
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_image', image_url: `https://cdn.test/${image}.png`, detail: 'auto' },
              { type: 'input_text', text: question },
            ],
          },
        ],
      });
    const question = `Describe ${text(1100, 'd')}`;
    const first = await look('boot', question);
    expect(first.usage?.input_tokens).toBe(85 + 1103);
    expect(details(first)).toEqual({ cached_tokens: 0, cache_write_tokens: 1152 });
    expect(details(await look('tent', question))?.cached_tokens).toBe(0);
    expect(details(await look('boot', `${question} in detail`))?.cached_tokens).toBe(1152);
  });

  it('caches nothing below 1,024 tokens', async () => {
    const { client } = await scopedClient({});
    const short = { model: 'gpt-6-luna', input: text(1000, 's') };
    for (let i = 0; i < 2; i += 1) {
      const response = await client.responses.create(short);
      expect(response.usage?.input_tokens).toBeLessThan(1024);
      expect(details(response)).toEqual({ cached_tokens: 0, cache_write_tokens: 0 });
    }
  });

  it('shares only between requests with the same prompt_cache_key, and keeps accounts apart', async () => {
    const { client } = await scopedClient({});
    const question = `Question: ${text(200, 'q')}`;
    const written = details(
      await ask(client, question, { prompt_cache_key: 'catalogue' }),
    )?.cache_write_tokens;
    expect(details(await ask(client, question, { prompt_cache_key: 'catalogue' }))).toEqual({
      cached_tokens: written,
      cache_write_tokens: 0,
    });
    for (const prompt_cache_key of ['listings', undefined]) {
      expect(details(await ask(client, question, { prompt_cache_key }))?.cached_tokens).toBe(0);
    }
    const { client: otherAccount } = await scopedClient({});
    expect(details(await ask(otherAccount, question))?.cached_tokens).toBe(0);
  });
});

describe('lifetime', () => {
  it('forgets a prefix prompt_cache_idle_ms × time_scale after its last use; every hit renews it', async () => {
    const config = { prompt_cache_idle_ms: 10_000, time_scale: 2 };
    const { key, client } = await scopedClient(config);
    // Move the key's clock instead of waiting: entries live 20 s of it after their last use.
    const at = async (clock_offset_ms: number) => {
      expect((await control(`/_sim/config?key=${key}`, { ...config, clock_offset_ms })).status).toBe(200);
      return details(await ask(client, 'Which boot?'))?.cached_tokens;
    };
    expect(await at(0)).toBe(0);
    expect(await at(15_000)).toBe(1024);
    expect(await at(30_000)).toBe(1024);
    expect(await at(55_000)).toBe(0);
  });

  it('validates prompt_cache_idle_ms and prompt_cache_overflow_rpm', async () => {
    expect(parseSimConfig({ prompt_cache_idle_ms: 50, prompt_cache_overflow_rpm: 2 })).toEqual({
      ok: true,
      value: { prompt_cache_idle_ms: 50, prompt_cache_overflow_rpm: 2 },
    });
    const bad: SimConfig[] = [{ prompt_cache_idle_ms: 0 }, { prompt_cache_overflow_rpm: 1.5 }];
    for (const config of bad) {
      const answer = await control('/_sim/config?key=cache-cfg', config);
      expect(answer.status).toBe(400);
      expect(answer.json.error?.message).toMatch(/prompt_cache_(idle_ms|overflow_rpm)/);
    }
  });
});

describe('billing', () => {
  it('bills written tokens at 1.25× input and read ones at the cached rate (gpt-6-luna)', async () => {
    const { key, client } = await scopedClient({});
    const first = (await ask(client, `Question A: ${text(300, 'a')}`)).usage;
    const second = (await ask(client, `Question B: ${text(300, 'b')}`)).usage;
    if (!first || !second) throw new Error('no usage');
    const { cache_write_tokens: written = 0 } = first.input_tokens_details;
    const { cached_tokens: read, cache_write_tokens: rewritten = 0 } = second.input_tokens_details;
    expect([written, read, rewritten]).toEqual([
      step(first.input_tokens),
      1024,
      step(second.input_tokens) - 1024,
    ]);
    // Per 1M tokens, by hand from openai-api.md §7: input $0.10, cached $0.01, cache writes $0.125, output $0.50.
    const usd = (tokens: number, perMillion: number) => (tokens * perMillion) / 1e6;
    const bill = (u: typeof first, cached: number, wrote: number) =>
      usd(u.input_tokens - cached - wrote, 0.1) +
      usd(cached, 0.01) +
      usd(wrote, 0.125) +
      usd(u.output_tokens, 0.5);
    const view = await invoice(key);
    expect(view.lines.map((line) => [line.cached_input_tokens, line.cache_write_tokens])).toEqual([
      [0, written],
      [read, rewritten],
    ]);
    expect(view.total_usd).toBeCloseTo(bill(first, 0, written) + bill(second, read, rewritten), 15);
  });
});

describe('overflow', () => {
  it('routes a prefix past prompt_cache_overflow_rpm requests a minute to other machines, which miss', async () => {
    const { key, client } = await scopedClient({ prompt_cache_overflow_rpm: 2 });
    const reads = async (count: number) => {
      const cached: (number | undefined)[] = [];
      for (let i = 0; i < count; i += 1)
        cached.push(details(await ask(client, 'Which boot?'))?.cached_tokens);
      return cached;
    };
    // The n-th request of the minute goes to machine (n − 1) mod ⌈n / 2⌉: 0, 0, 0, 1, 1, 2.
    expect(await reads(6)).toEqual([0, 1024, 1024, 0, 1024, 0]);
    // A minute later the route is quiet again and everything goes home, where the prefix still lives.
    const later = { prompt_cache_overflow_rpm: 2, clock_offset_ms: 61_000 };
    expect((await control(`/_sim/config?key=${key}`, later)).status).toBe(200);
    expect(await reads(2)).toEqual([1024, 1024]);
  });

  it('keeps every request on one machine at 15 a minute, the default', async () => {
    const { client } = await scopedClient({});
    const cached: (number | undefined)[] = [];
    for (let i = 0; i < 15; i += 1) cached.push(details(await ask(client, 'Which boot?'))?.cached_tokens);
    expect(cached).toEqual([0, ...Array(14).fill(1024)]);
    expect(details(await ask(client, 'Which boot?'))?.cached_tokens).toBe(0);
  });
});

describe('Batch API', () => {
  it('runs batch lines through the account cache', async () => {
    const { client } = await scopedClient({});
    await ask(client, 'Which boot?');
    const lines = ['tent', 'stove', 'lamp'].map((item) => ({
      custom_id: item,
      method: 'POST',
      url: '/v1/responses',
      body: { model: 'gpt-6-luna', instructions: INSTRUCTIONS, input: `Which ${item}?` },
    }));
    const jsonl = lines.map((line) => JSON.stringify(line)).join('\n');
    const file = await client.files.create({ file: new File([jsonl], 'b.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/responses',
      completion_window: '24h',
    });
    const done = await client.batches.retrieve(created.id);
    expect(done.usage?.input_tokens_details.cached_tokens).toBe(3 * 1024);
    const output = await (await client.files.content(done.output_file_id as string)).text();
    for (const line of output.trim().split('\n')) {
      const body = JSON.parse(line).response.body as Response;
      expect(details(body)).toEqual({ cached_tokens: 1024, cache_write_tokens: 0 });
    }
  });
});

describe('the structured-output schema', () => {
  it('comes first, as OpenAI prefixes the system message with it: another schema shares nothing', async () => {
    const { client } = await scopedClient({});
    const format = (maxItems: number) => ({
      type: 'json_schema' as const,
      name: 'list',
      strict: true,
      schema: {
        type: 'object',
        properties: { items: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems } },
        required: ['items'],
        additionalProperties: false,
      },
    });
    await ask(client, `Question A: ${text(200, 'a')}`, { text: { format: format(50) } });
    // Same schema, same instructions, another question: the head is read.
    const same = await ask(client, `Question B: ${text(200, 'b')}`, { text: { format: format(50) } });
    expect(details(same)?.cached_tokens).toBeGreaterThanOrEqual(1024);
    // The same 1,100 tokens of instructions behind a schema that differs early: nothing is shared.
    const other = await ask(client, `Question A: ${text(200, 'a')}`, { text: { format: format(3) } });
    expect(details(other)?.cached_tokens).toBe(0);
  });

  it('gets one entry per numbered request in a top-level array whose bounds allow it', async () => {
    const { client } = await scopedClient({});
    const list = (input: string, minItems = 1, maxItems = 50) =>
      client.responses.create({
        model: 'gpt-6-luna',
        input,
        text: {
          format: {
            type: 'json_schema',
            name: 'list',
            strict: true,
            schema: {
              type: 'object',
              properties: { items: { type: 'array', items: { type: 'string' }, minItems, maxItems } },
              required: ['items'],
              additionalProperties: false,
            },
          },
        },
      });
    const numbered = (n: number) =>
      Array.from({ length: n }, (_, i) => `Request ${i + 1}:\nboots ${i}`).join('\n\n');
    for (const n of [1, 5, 12]) {
      const answer = JSON.parse((await list(numbered(n))).output_text) as { items: string[] };
      expect(answer.items).toHaveLength(n);
    }
    // Out of the schema's bounds, the schema wins.
    const bounded = JSON.parse((await list(numbered(7), 1, 4)).output_text) as { items: string[] };
    expect(bounded.items.length).toBeLessThanOrEqual(4);
  });
});
