import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { usageOf } from '../../dev/openai-sim/meter.ts';
import { priceOf } from '../../dev/openai-sim/prices.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const sim = useSimulator();
const { scopedClient, clientFor, control, invoice, invoiceWith } = sim;

/** USD for `tokens` at `usdPerMillion`, by hand from openai-api.md §7 (not from the simulator's table). */
const usd = (tokens: number, usdPerMillion: number) => (tokens * usdPerMillion) / 1e6;

const shoe = { model: 'gpt-6-luna', input: 'Name a trail shoe' };
const longPrompt = `${'Catalogue entry for a waterproof hiking boot with a sturdy sole. '.repeat(80)}Summarise.`;

describe('prices', () => {
  it('bills a Responses call at gpt-6-luna list prices and names it by x-client-request-id', async () => {
    const { key, client } = await scopedClient({});
    const response = await client.responses.create(shoe, { headers: { 'x-client-request-id': 'req-abc' } });
    await client.responses.create(shoe);
    const { input_tokens: input, output_tokens: output } = response.usage as OpenAI.Responses.ResponseUsage;
    const expected = usd(input, 0.1) + usd(output, 0.5);
    const bill = await invoice(key);
    expect(bill).toMatchObject({ requests: 2, abandoned: 0, lines_dropped: 0 });
    expect(bill.lines.map((line) => line.request_id)).toEqual(['req-abc', null]);
    expect(bill.lines[0]).toMatchObject({
      endpoint: '/v1/responses',
      model: 'gpt-6-luna',
      abandoned: false,
      fault: null,
      input_tokens: input,
      output_tokens: output,
      priced: true,
    });
    expect(bill.lines[0]?.usd).toBeCloseTo(expected, 15);
    expect(bill.total_usd).toBeCloseTo(2 * expected, 15);
    expect(bill.by_model['gpt-6-luna']).toMatchObject({ requests: 2, input_tokens: 2 * input, images: 0 });
  });

  it('bills reasoning, cache writes and cache reads, at 2× for priority and 0.5× for flex', async () => {
    // The prompt cache lives 5 min × time_scale: at 0.01, 3 s, far longer than the calls take even on a
    // loaded machine (at 0.0001 it lived 30 ms, and a slow first answer let the second miss it).
    const { key, client } = await scopedClient({ profile: 'realistic', time_scale: 0.01 });
    const call = (service_tier: 'priority' | 'flex' | 'fast') =>
      client.chat.completions.create({
        model: 'gpt-6-luna',
        messages: [{ role: 'user', content: longPrompt }],
        service_tier,
      });
    const first = await call('priority');
    const second = await call('flex');
    expect([first.service_tier, second.service_tier, (await call('fast')).service_tier]).toEqual([
      'priority',
      'flex',
      'priority',
    ]);
    const u1 = first.usage as OpenAI.CompletionUsage;
    const write = u1.prompt_tokens_details?.cache_write_tokens as number;
    const reasoning = u1.completion_tokens_details?.reasoning_tokens as number;
    expect(write).toBeGreaterThan(0);
    expect(reasoning).toBeGreaterThan(0);
    const lines = (await invoice(key)).lines;
    expect(lines[0]).toMatchObject({
      service_tier: 'priority',
      cache_write_tokens: write,
      reasoning_tokens: reasoning,
    });
    expect(lines[0]?.usd).toBeCloseTo(
      2 * (usd(u1.prompt_tokens - write, 0.1) + usd(write, 0.125) + usd(u1.completion_tokens, 0.5)),
      15,
    );
    const u2 = second.usage as OpenAI.CompletionUsage;
    expect(lines[1]).toMatchObject({
      service_tier: 'flex',
      cached_input_tokens: write,
      cache_write_tokens: 0,
    });
    expect(lines[1]?.usd).toBeCloseTo(
      0.5 * (usd(u2.prompt_tokens - write, 0.1) + usd(write, 0.01) + usd(u2.completion_tokens, 0.5)),
      15,
    );
  });

  it('bills images by text and image tokens, embeddings by input, and moderation at $0', async () => {
    const { key, client } = await scopedClient({});
    const images = await client.images.generate({
      model: 'gpt-image-2',
      prompt: 'a red boot',
      quality: 'medium',
      n: 2,
    });
    const embedding = await client.embeddings.create({
      model: 'text-embedding-3-large',
      input: 'a red boot',
    });
    await client.moderations.create({ input: 'a red boot' });
    const text = images.usage?.input_tokens as number;
    const bill = await invoice(key);
    expect(bill.lines.map((line) => [line.endpoint, line.images])).toEqual([
      ['/v1/images/generations', 2],
      ['/v1/embeddings', 0],
      ['/v1/moderations', 0],
    ]);
    expect(bill.lines[0]?.output_tokens).toBe(2 * 1056);
    expect(bill.lines[0]?.usd).toBeCloseTo(usd(text, 2.5) + usd(2 * 1056, 15), 15);
    expect(bill.lines[1]?.usd).toBeCloseTo(usd(embedding.usage.prompt_tokens, 0.13), 15);
    expect(bill.lines[2]).toMatchObject({ model: 'omni-moderation-latest', usd: 0, priced: true });
  });

  it('adds a fee per built-in tool listed, the preview search at $25 per 1k calls without reasoning', async () => {
    const { key, client } = await scopedClient({});
    const tools = [
      { type: 'web_search' },
      { type: 'file_search', vector_store_ids: ['vs_1'] },
      { type: 'code_interpreter', container: { type: 'auto' } },
      { type: 'function', name: 'lookup', parameters: {}, strict: false },
    ] as OpenAI.Responses.Tool[];
    const luna = await client.responses.create({ ...shoe, tools });
    const legacy = await client.responses.create({
      model: 'gpt-4.1',
      input: 'x',
      tools: [{ type: 'web_search_preview' }],
    });
    const [first, second] = (await invoice(key)).lines;
    expect(first?.tool_calls).toBe(3);
    const tokens = usd(luna.usage?.input_tokens ?? 0, 0.1) + usd(luna.usage?.output_tokens ?? 0, 0.5);
    expect(first?.usd).toBeCloseTo(tokens + 0.01 + 0.0025 + 0.03, 15);
    const legacyTokens = usd(legacy.usage?.input_tokens ?? 0, 2) + usd(legacy.usage?.output_tokens ?? 0, 8);
    expect(second?.usd).toBeCloseTo(legacyTokens + 0.025, 15);
  });

  it('flags a model it has no price for and prices dated snapshots like their model', async () => {
    const { key, client } = await scopedClient({});
    await client.responses.create({ model: 'gpt-7-nova', input: 'x' });
    const dated = await client.responses.create({ model: 'gpt-4.1-mini-2025-04-14', input: 'x' });
    const bill = await invoice(key);
    expect(bill.lines[0]).toMatchObject({ model: 'gpt-7-nova', usd: 0, priced: false });
    expect(bill.by_model['gpt-7-nova']?.priced).toBe(false);
    expect(bill.lines[1]?.usd).toBeCloseTo(
      usd(dated.usage?.input_tokens ?? 0, 0.4) + usd(dated.usage?.output_tokens ?? 0, 1.6),
      15,
    );
  });

  it('sums in integers: ten $0.00000002 embeddings make exactly $0.0000002', async () => {
    const { key, client } = await scopedClient({});
    for (let i = 0; i < 10; i += 1)
      await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    const bill = await invoice(key);
    expect(bill.lines.every((line) => line.usd === 2e-8)).toBe(true);
    expect(bill.total_usd).toBe(2e-7);
    expect(bill.by_model['text-embedding-3-small']?.usd).toBe(2e-7);
  });

  it('doubles input and bills 1.5× output over 272K input tokens on gpt-6-luna', () => {
    const usage = usageOf('gpt-6-luna', { inputTokens: 300_000, outputTokens: 1000 });
    expect(priceOf(usage).pico).toBe(2 * 300_000 * 100_000 + 1.5 * 1000 * 500_000);
    expect(priceOf({ ...usage, inputTokens: 272_000 }).pico).toBe(272_000 * 100_000 + 1000 * 500_000);
  });
});

describe('batch lines', () => {
  it('bills the lines at half price when the batch ends, to the key that created it', async () => {
    const { key, client } = await scopedClient({});
    const lines = ['a', 'b'].map((id) => ({
      custom_id: id,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `Gift idea ${id}` }] },
    }));
    const file = await client.files.create({
      file: new File([lines.map((line) => JSON.stringify(line)).join('\n')], 'in.jsonl'),
      purpose: 'batch',
    });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect((await invoice(key)).requests).toBe(0);
    const done = await clientFor(`poller-${key}`).batches.retrieve(batch.id);
    expect(done.status).toBe('completed');
    const output = (await (await client.files.content(done.output_file_id as string)).text())
      .trim()
      .split('\n');
    const usages = new Map(
      output.map((line) => {
        const parsed = JSON.parse(line) as { custom_id: string; response: { body: OpenAI.ChatCompletion } };
        return [parsed.custom_id, parsed.response.body.usage as OpenAI.CompletionUsage];
      }),
    );
    const bill = await invoice(key);
    expect(bill.lines.map((line) => [line.custom_id, line.batch_id, line.service_tier])).toEqual([
      ['a', batch.id, 'batch'],
      ['b', batch.id, 'batch'],
    ]);
    for (const line of bill.lines) {
      const usage = usages.get(line.custom_id as string) as OpenAI.CompletionUsage;
      expect(line.usd).toBeCloseTo(
        0.5 * (usd(usage.prompt_tokens, 0.4) + usd(usage.completion_tokens, 1.6)),
        15,
      );
    }
    expect((await invoice(`poller-${key}`)).requests).toBe(0);
  });
});

describe('abandoned work', () => {
  it('bills a non-streamed request in full when its client times out', async () => {
    const { key, client } = await scopedClient({ profile: 'realistic', time_scale: 0.05 }, { timeout: 150 });
    const request = { ...shoe, reasoning: { effort: 'high' as const } };
    await expect(client.responses.create(request)).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const bill = await invoiceWith(key, 1);
    const full = await (
      await scopedClient({ profile: 'realistic', time_scale: 0.0001 })
    ).client.responses.create(request);
    expect(bill).toMatchObject({ requests: 1, abandoned: 1 });
    expect(bill.lines[0]).toMatchObject({
      abandoned: true,
      fault: null,
      output_tokens: full.usage?.output_tokens,
      reasoning_tokens: full.usage?.output_tokens_details.reasoning_tokens,
    });
  });

  it('bills a stream cut while reasoning for the reasoning generated until the cut', async () => {
    const request = { ...shoe, reasoning: { effort: 'high' as const } };
    const full = await (
      await scopedClient({ profile: 'realistic', time_scale: 0.0001 })
    ).client.responses.create(request);
    const { key, client } = await scopedClient({ profile: 'realistic', time_scale: 0.05 });
    const stream = await client.responses.create({ ...request, stream: true });
    for await (const event of stream) if (event.type === 'response.output_item.added') break;
    const line = (await invoiceWith(key, 1)).lines[0];
    expect(line).toMatchObject({ abandoned: true, input_tokens: full.usage?.input_tokens });
    expect(line?.output_tokens).toBe(line?.reasoning_tokens);
    expect(line?.output_tokens).toBeLessThan(full.usage?.output_tokens_details.reasoning_tokens as number);
  });

  it('bills a stream cut mid-text for at least the text sent, and less than the whole answer', async () => {
    const full = await (await scopedClient({})).client.responses.create(shoe);
    const { key, client } = await scopedClient({ stream_interval_ms: 40 });
    const stream = await client.responses.create({ ...shoe, stream: true });
    let seen = '';
    let deltas = 0;
    for await (const event of stream) {
      if (event.type !== 'response.output_text.delta') continue;
      seen += event.delta;
      deltas += 1;
      if (deltas === 3) break;
    }
    const line = (await invoiceWith(key, 1)).lines[0];
    const output = full.usage?.output_tokens as number;
    expect(line?.abandoned).toBe(true);
    expect(line?.output_tokens).toBeGreaterThanOrEqual(
      Math.round((output * seen.length) / full.output_text.length),
    );
    expect(line?.output_tokens).toBeLessThan(output);
  });

  it('bills a timeout fault in full once the client gives up, and drop and malformed faults too', async () => {
    const full = await (await scopedClient({})).client.responses.create(shoe);
    const timedOut = await scopedClient({ faults: [{ kind: 'timeout' }] }, { timeout: 150 });
    await expect(timedOut.client.responses.create(shoe)).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
    expect((await invoiceWith(timedOut.key, 1)).lines[0]).toMatchObject({
      abandoned: true,
      fault: 'timeout',
      output_tokens: full.usage?.output_tokens,
    });
    const dropped = await scopedClient({ faults: [{ kind: 'drop' }] });
    await expect(dropped.client.responses.create(shoe)).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect((await invoiceWith(dropped.key, 1)).lines[0]).toMatchObject({ abandoned: true, fault: 'drop' });
    const malformed = await scopedClient({ faults: [{ kind: 'malformed' }] });
    await expect(malformed.client.responses.create(shoe)).rejects.toBeInstanceOf(SyntaxError);
    expect((await invoice(malformed.key)).lines[0]).toMatchObject({
      abandoned: false,
      fault: 'malformed',
      output_tokens: full.usage?.output_tokens,
    });
  });

  it('bills neither status faults nor rejected requests', async () => {
    const { key, client } = await scopedClient({
      faults: [
        { kind: 'status', status: 429, times: 1 },
        { kind: 'status', status: 503, times: 1 },
      ],
    });
    await expect(client.responses.create(shoe)).rejects.toMatchObject({ status: 429 });
    await expect(client.responses.create(shoe)).rejects.toMatchObject({ status: 503 });
    await expect(
      client.responses.create({ model: 'gpt-6-luna', input: 'x', max_output_tokens: 1 }),
    ).rejects.toMatchObject({
      status: 400,
    });
    await client.responses.create(shoe);
    expect((await invoice(key)).lines.map((line) => line.fault)).toEqual([null]);
  });
});

describe('scope and reset', () => {
  it('scopes the invoice by key and clears it per key or globally, like the stats', async () => {
    const a = await scopedClient({});
    const b = await scopedClient({});
    await a.client.responses.create(shoe);
    await b.client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect((await invoice(a.key)).lines.map((line) => line.endpoint)).toEqual(['/v1/responses']);
    expect((await invoice(b.key)).lines.map((line) => line.endpoint)).toEqual(['/v1/embeddings']);
    const everything = await invoice();
    expect(everything.requests).toBe(2);
    expect(everything.total_usd).toBeCloseTo(
      (await invoice(a.key)).total_usd + (await invoice(b.key)).total_usd,
      15,
    );
    expect((await control(`/_sim/reset?key=${a.key}`, {})).status).toBe(200);
    expect((await invoice(a.key)).requests).toBe(0);
    expect((await invoice(b.key)).requests).toBe(1);
    expect((await invoice()).requests).toBe(2);
    await control('/_sim/reset', {});
    expect((await invoice()).requests).toBe(0);
    expect((await invoice(b.key)).requests).toBe(1);
  });
});
