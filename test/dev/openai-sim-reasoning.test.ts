import { describe, expect, it } from 'vitest';
import {
  drawReasoningTokens,
  LOG_SIGMA,
  REASONING_MEDIANS,
  type ReasoningEffort,
} from '../../dev/openai-sim/reasoning.ts';
import { createRng } from '../../dev/openai-sim/rng.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const sim = useSimulator();
const { scopedClient } = sim;

/** A client on the realistic profile, so fast that reasoning costs no waiting. */
const realistic = () => scopedClient({ profile: 'realistic', time_scale: 0.0001 });

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

describe('reasoning token distribution', () => {
  // z(0.99) of a standard normal: p99 of a lognormal is median × e^(sigma × 2.326).
  const P99_FACTOR = Math.exp(LOG_SIGMA * 2.326);

  it.each([
    ['low', 256],
    ['medium', 1024],
    ['high', 4096],
    ['xhigh', 8192],
    ['max', 8192],
  ] as const)('draws %s effort lognormally around a median of %i with sigma 0.6', (effort, median) => {
    const draws = Array.from({ length: 2000 }, (_, i) => drawReasoningTokens(effort, createRng(`d${i}`)));
    const sorted = [...draws].sort((a, b) => a - b);
    expect(draws.every(Number.isInteger)).toBe(true);
    expect(quantile(sorted, 0.5) / median).toBeGreaterThan(0.93);
    expect(quantile(sorted, 0.5) / median).toBeLessThan(1.07);
    expect(quantile(sorted, 0.99) / (median * P99_FACTOR)).toBeGreaterThan(0.8);
    expect(quantile(sorted, 0.99) / (median * P99_FACTOR)).toBeLessThan(1.2);
    const logs = draws.map(Math.log);
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    const sigma = Math.sqrt(logs.reduce((sum, x) => sum + (x - mean) ** 2, 0) / logs.length);
    expect(sigma).toBeGreaterThan(0.55);
    expect(sigma).toBeLessThan(0.65);
  });

  it.each(['none', 'minimal'] as const)('never reasons at %s effort', (effort: ReasoningEffort) => {
    expect(REASONING_MEDIANS[effort]).toBe(0);
    expect(Array.from({ length: 50 }, (_, i) => drawReasoningTokens(effort, createRng(`${i}`)))).toEqual(
      Array(50).fill(0),
    );
  });

  it('reasons around 1,024 tokens over HTTP at the default (medium) effort, counted in output_tokens', async () => {
    const { client } = await realistic();
    const counts: number[] = [];
    for (let i = 0; i < 120; i += 1) {
      const response = await client.responses.create({ model: 'gpt-6-luna', input: `Name shoe number ${i}` });
      const usage = response.usage;
      const reasoning = usage?.output_tokens_details.reasoning_tokens ?? 0;
      expect(response.output[0]?.type).toBe('reasoning');
      expect(response.reasoning?.effort).toBe('medium');
      expect(usage?.output_tokens).toBeGreaterThan(reasoning);
      counts.push(reasoning);
    }
    const median = quantile(
      [...counts].sort((a, b) => a - b),
      0.5,
    );
    expect(median).toBeGreaterThan(1024 * 0.75);
    expect(median).toBeLessThan(1024 * 1.33);
  });

  it('reasons the same for the same request, more at higher effort, and never for gpt-4.1', async () => {
    const { client } = await realistic();
    const reasoningOf = async (model: string, effort?: ReasoningEffort) => {
      const response = await client.responses.create({
        model,
        input: 'Compare two trail shoes',
        ...(effort ? { reasoning: { effort } } : {}),
      });
      return response.usage?.output_tokens_details.reasoning_tokens;
    };
    const low = await reasoningOf('gpt-6.1-sol', 'low');
    expect(await reasoningOf('gpt-6.1-sol', 'low')).toBe(low);
    // The same normal draw scaled by the effort's median (4,096 / 256), each rounded on its own.
    const high = (await reasoningOf('gpt-6.1-sol', 'high')) as number;
    expect(Math.abs(high - (low as number) * 16)).toBeLessThanOrEqual(8);
    expect(await reasoningOf('gpt-6.1-sol', 'none')).toBe(0);
    expect(await reasoningOf('gpt-4.1')).toBe(0);
    expect(await reasoningOf('gpt-4o-mini')).toBe(0);
  });

  it('rejects an effort for a model that does not reason, as OpenAI does', async () => {
    const { client } = await realistic();
    await expect(
      client.responses.create({ model: 'gpt-4.1', input: 'x', reasoning: { effort: 'low' } }),
    ).rejects.toMatchObject({ status: 400, param: 'reasoning.effort', code: 'unsupported_parameter' });
    await expect(
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        reasoning_effort: 'low',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'reasoning_effort', code: 'unsupported_parameter' });
  });

  it('reasons exactly the configured reasoning_tokens when a test fixes them, and cuts off at the cap', async () => {
    const { client } = await scopedClient({
      profile: 'realistic',
      time_scale: 0.0001,
      reasoning_tokens: 3000,
    });
    const ask = (cap: number) =>
      client.responses.create({
        model: 'gpt-6-luna',
        input: 'Name a boot',
        max_output_tokens: cap,
        reasoning: { effort: 'low' },
      });
    const roomy = await ask(5000);
    expect(roomy.usage?.output_tokens_details.reasoning_tokens).toBe(3000);
    expect(roomy.status).toBe('completed');
    const cut = await ask(2500);
    expect(cut).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(cut.usage?.output_tokens).toBe(2500);
  });

  it('rejects an unknown effort as OpenAI does', async () => {
    const { client } = await realistic();
    await expect(
      client.chat.completions.create({
        model: 'gpt-6-luna',
        messages: [{ role: 'user', content: 'x' }],
        reasoning_effort: 'extreme' as ReasoningEffort,
      }),
    ).rejects.toMatchObject({ status: 400, param: 'reasoning_effort' });
  });

  it('keeps the instant profile free of reasoning', async () => {
    const { client } = await scopedClient({});
    const response = await client.responses.create({
      model: 'gpt-6-luna',
      input: 'Name a trail shoe',
      reasoning: { effort: 'high' },
    });
    expect(response.usage?.output_tokens_details.reasoning_tokens).toBe(0);
    expect(response.output.map((item) => item.type)).toEqual(['message']);
    expect(response.reasoning).toEqual({ effort: null, summary: null });
  });
});

describe('reasoning against the output cap', () => {
  const input = 'Describe a waterproof hiking boot for wet autumn trails';

  it('ends incomplete with the visible text cut to what fits after reasoning', async () => {
    const { client } = await realistic();
    const full = await client.responses.create({ model: 'gpt-6-luna', input, reasoning: { effort: 'low' } });
    const reasoning = full.usage?.output_tokens_details.reasoning_tokens as number;
    const visible = (full.usage?.output_tokens as number) - reasoning;
    expect(visible).toBeGreaterThan(8);
    const cap = reasoning + Math.floor(visible / 2);
    const cut = await client.responses.create({
      model: 'gpt-6-luna',
      input,
      reasoning: { effort: 'low' },
      max_output_tokens: cap,
    });
    expect(cut.status).toBe('incomplete');
    expect(cut.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(cut.usage?.output_tokens).toBe(cap);
    expect(cut.usage?.output_tokens_details.reasoning_tokens).toBe(reasoning);
    expect(cut.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(cut.output_text.length).toBeGreaterThan(0);
    expect(full.output_text.startsWith(cut.output_text)).toBe(true);
    expect(cut.output_text.length).toBeLessThan(full.output_text.length);
  });

  it('has no message item at all when reasoning alone reaches the cap', async () => {
    const { client } = await realistic();
    const response = await client.responses.create({ model: 'gpt-6-luna', input, max_output_tokens: 16 });
    expect(response.status).toBe('incomplete');
    expect(response.usage?.output_tokens).toBe(16);
    expect(response.usage?.output_tokens_details.reasoning_tokens).toBe(16);
    expect(response.output.map((item) => item.type)).toEqual(['reasoning']);
    expect(response.output_text).toBe('');
  });

  it('streams the same: a reasoning item, no text, and a response.incomplete terminal event', async () => {
    const { client } = await realistic();
    const stream = await client.responses.create({
      model: 'gpt-6-luna',
      input,
      max_output_tokens: 16,
      stream: true,
    });
    const types: string[] = [];
    let last: unknown;
    for await (const event of stream) {
      types.push(event.type);
      last = event;
    }
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.output_item.done',
      'response.incomplete',
    ]);
    expect(last).toMatchObject({
      response: { status: 'incomplete', output: [{ type: 'reasoning' }], usage: { output_tokens: 16 } },
    });
  });

  it('ends a chat choice with length and truncated (possibly empty) content, max_tokens included', async () => {
    const { client } = await realistic();
    const messages = [{ role: 'user' as const, content: input }];
    const full = await client.chat.completions.create({
      model: 'gpt-5.6-luna',
      messages,
      reasoning_effort: 'low',
    });
    const reasoning = full.usage?.completion_tokens_details?.reasoning_tokens as number;
    expect(reasoning).toBeGreaterThan(0);
    const partial = await client.chat.completions.create({
      model: 'gpt-5.6-luna',
      messages,
      reasoning_effort: 'low',
      max_completion_tokens: reasoning + 3,
    });
    expect(partial.choices[0]?.finish_reason).toBe('length');
    expect(partial.choices[0]?.message.content).toBe(full.choices[0]?.message.content?.slice(0, 12));
    expect(partial.usage?.completion_tokens).toBe(reasoning + 3);
    const empty = await client.chat.completions.create({ model: 'gpt-5.6-luna', messages, max_tokens: 20 });
    expect(empty.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: '' } });
    expect(empty.usage).toMatchObject({
      completion_tokens: 20,
      completion_tokens_details: { reasoning_tokens: 20 },
    });
    const stream = await client.chat.completions.create({
      model: 'gpt-5.6-luna',
      messages,
      max_completion_tokens: 20,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter(Boolean)).toEqual([
      'length',
    ]);
    expect(chunks.at(-1)?.usage?.completion_tokens_details?.reasoning_tokens).toBe(20);
  });
});
