import { randomUUID } from 'node:crypto';
import OpenAI, { type APIError, type RateLimitError } from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type SimConfig, type SimFault, startSimulator } from '../../dev/openai-sim/index.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const Answer = z.object({
  title: z.string().max(30),
  bullets: z.array(z.string()).max(3),
  score: z.number().min(0).max(1),
});

const sim = useSimulator();
const { control, clientFor, scopedClient } = sim;

const ask = (client: OpenAI) =>
  client.responses.create({ model: 'gpt-4.1', input: 'Name a good running shoe' });
const faults = (...list: SimFault[]): SimConfig => ({ faults: list });

describe('status faults', () => {
  it('answers 503 server_error as InternalServerError for the scoped key only', async () => {
    const { client } = await scopedClient(faults({ kind: 'status', status: 503, endpoint: '/v1/responses' }));
    const error = await ask(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 503, type: 'server_error' });
    expect((error as APIError).requestID).toMatch(/^req_/);
    await expect(ask(clientFor(`other-${randomUUID()}`))).resolves.toMatchObject({ status: 'completed' });
  });

  it('answers 429 insufficient_quota with retry-after headers as RateLimitError', async () => {
    const { client } = await scopedClient(
      faults({ kind: 'status', status: 429, code: 'insufficient_quota', retry_after_s: 1.5 }),
    );
    const error = (await ask(client).catch((e: unknown) => e)) as RateLimitError;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('insufficient_quota');
    expect(error.type).toBe('insufficient_quota');
    expect(error.headers?.get('retry-after')).toBe('2');
    expect(error.headers?.get('retry-after-ms')).toBe('1500');
  });

  it('defaults a 429 to rate_limit_exceeded and an omitted status to 500', async () => {
    const { client } = await scopedClient(
      faults({ kind: 'status', status: 429, endpoint: '/v1/embeddings' }, { kind: 'status' }),
    );
    const limited = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((e: unknown) => e);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect((limited as APIError).headers?.get('retry-after')).toBeNull();
    await expect(ask(client)).rejects.toMatchObject({ status: 500, type: 'server_error' });
  });

  it('never fires at rate 0 and always fires at rate 1', async () => {
    const never = await scopedClient(faults({ kind: 'status', status: 500, rate: 0 }));
    const always = await scopedClient(faults({ kind: 'status', status: 500, rate: 1 }));
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, async () => [
        await ask(never.client).then(() => 'ok'),
        await ask(always.client).catch(() => 'failed'),
      ]),
    );
    expect(outcomes.flat()).toEqual(Array.from({ length: 10 }, () => ['ok', 'failed']).flat());
  });

  it('applies a fault only to its endpoint', async () => {
    const { client } = await scopedClient(
      faults({ kind: 'status', status: 500, endpoint: '/v1/embeddings' }),
    );
    await expect(ask(client)).resolves.toMatchObject({ status: 'completed' });
    await expect(
      client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });
});

describe('transport faults', () => {
  it('hangs on timeout until the client gives up', async () => {
    const { client } = await scopedClient(faults({ kind: 'timeout' }), { timeout: 150 });
    await expect(ask(client)).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('drops the connection without a response', async () => {
    const { client } = await scopedClient(faults({ kind: 'drop' }));
    const error = await ask(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('drops a stream after some events', async () => {
    const { client } = await scopedClient(faults({ kind: 'drop' }));
    const stream = client.responses.stream({
      model: 'gpt-4.1',
      input: 'Describe a long winter coat in detail',
    });
    let deltas = 0;
    stream.on('response.output_text.delta', () => {
      deltas += 1;
    });
    const error = await stream.finalResponse().catch((e: unknown) => e);
    // The SDK reports a body cut mid-stream as a plain OpenAIError('terminated'), not an APIConnectionError.
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
    expect(error).not.toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/terminated/);
    expect(deltas).toBeGreaterThan(0);
  });

  it('sends a 200 with an unparseable body on malformed', async () => {
    const { key } = await scopedClient(faults({ kind: 'malformed' }));
    const res = await fetch(`${sim.url()}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1', input: 'hi' }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    await expect(ask(clientFor(key))).rejects.toBeInstanceOf(SyntaxError);
  });
});

describe('content faults', () => {
  it('returns JSON that breaks the schema on schema_violation', async () => {
    const { client } = await scopedClient(faults({ kind: 'schema_violation' }));
    const response = await client.responses.create({
      model: 'gpt-4.1',
      input: 'Summarise the shoe review',
      text: { format: zodTextFormat(Answer, 'answer') },
    });
    const parsed: unknown = JSON.parse(response.output_text);
    expect(Answer.safeParse(parsed).success).toBe(false);
    await expect(
      client.chat.completions.parse({
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'Summarise the shoe review' }],
        response_format: zodResponseFormat(Answer, 'answer'),
      }),
    ).rejects.toThrow();
  });

  it('refuses in the Responses shape with output_parsed null', async () => {
    const { client } = await scopedClient(faults({ kind: 'refusal', endpoint: '/v1/responses' }));
    const response = await client.responses.parse({
      model: 'gpt-4.1',
      input: 'x',
      text: { format: zodTextFormat(Answer, 'answer') },
    });
    expect(response.output[0]).toMatchObject({
      type: 'message',
      content: [{ type: 'refusal', refusal: "I'm sorry, I cannot assist with that request." }],
    });
    expect(response.output_text).toBe('');
    expect(response.output_parsed).toBeNull();
    const stream = client.responses.stream({ model: 'gpt-4.1', input: 'x' });
    const refusalDeltas: string[] = [];
    stream.on('response.refusal.delta', (event) => refusalDeltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(refusalDeltas.join('')).toBe("I'm sorry, I cannot assist with that request.");
    expect(final.output[0]).toMatchObject({ content: [{ type: 'refusal' }] });
  });

  it('refuses in the Chat shape, streamed or not', async () => {
    const { client } = await scopedClient(faults({ kind: 'refusal' }));
    const completion = await client.chat.completions.parse({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'x' }],
      response_format: zodResponseFormat(Answer, 'answer'),
    });
    expect(completion.choices[0]?.message).toMatchObject({
      content: null,
      refusal: expect.stringContaining("I'm sorry"),
    });
    expect(completion.choices[0]?.message.parsed).toBeNull();
    const stream = client.chat.completions.stream({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'x' }],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.refusal).toContain("I'm sorry");
  });

  it('skips content faults on endpoints without generated text', async () => {
    const { client, key } = await scopedClient(faults({ kind: 'refusal' }));
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(result.data).toHaveLength(1);
    expect((await control(`/_sim/stats?key=${key}`)).json.faults).toEqual({});
  });
});

describe('per-request headers', () => {
  it('applies an x-sim-fault header to that request only', async () => {
    const client = clientFor(`hdr-${randomUUID()}`);
    const header = JSON.stringify([{ kind: 'status', status: 502 }]);
    await expect(
      client.responses.create({ model: 'gpt-4.1', input: 'x' }, { headers: { 'x-sim-fault': header } }),
    ).rejects.toMatchObject({
      status: 502,
    });
    await expect(ask(client)).resolves.toMatchObject({ status: 'completed' });
  });

  it('rejects an invalid x-sim-fault header with a 400', async () => {
    const client = clientFor(`hdr-${randomUUID()}`);
    const error = await client.responses
      .create({ model: 'gpt-4.1', input: 'x' }, { headers: { 'x-sim-fault': '{"kind":"nope"}' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).param).toBe('x-sim-fault');
  });

  it('adds latency from config and lets x-sim-latency-ms override it', async () => {
    const { client } = await scopedClient({ latency_ms: 120 });
    const timed = async (headers?: Record<string, string>) => {
      const started = performance.now();
      await client.responses.create({ model: 'gpt-4.1', input: 'x' }, { headers });
      return performance.now() - started;
    };
    expect(await timed()).toBeGreaterThanOrEqual(115);
    expect(await timed({ 'x-sim-latency-ms': '0' })).toBeLessThan(100);
  });

  it('delays only the endpoints a per-endpoint latency names', async () => {
    const { key } = await scopedClient({ latency_ms: { '/v1/embeddings': 150, '/v1/moderations': 60_000 } });
    // Clients that give up long before 60 s: a response would need that long if it were delayed.
    const client = clientFor(key, { timeout: 5_000 });
    const started = performance.now();
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'boots' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    await expect(client.responses.create({ model: 'gpt-4.1', input: 'x' })).resolves.toMatchObject({
      status: 'completed',
    });
    const impatient = clientFor(key, { timeout: 300 });
    await expect(impatient.moderations.create({ input: 'boots' })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
  });
});

describe('control API', () => {
  it('counts requests, models and faults per key and globally', async () => {
    await control('/_sim/reset', {});
    const { client, key } = await scopedClient(
      faults({ kind: 'status', status: 500, endpoint: '/v1/embeddings' }),
    );
    await ask(client);
    await client.responses.create({ model: 'gpt-4.1-mini', input: 'x' });
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch(() => undefined);
    await ask(clientFor(`other-${randomUUID()}`));
    const scoped = await control(`/_sim/stats?key=${key}`);
    expect(scoped.json).toEqual({
      requests: { '/v1/responses': 2, '/v1/embeddings': 1 },
      faults: { status: 1 },
      models: { 'gpt-4.1': 1, 'gpt-4.1-mini': 1, 'text-embedding-3-small': 1 },
      early_retries: 0,
    });
    const global = await control('/_sim/stats');
    expect(global.json.requests?.['/v1/responses']).toBe(3);
    expect(global.json.models?.['gpt-4.1']).toBe(2);
  });

  it('clears only the scoped key on a scoped reset', async () => {
    const a = await scopedClient(faults({ kind: 'status', status: 500 }));
    const b = await scopedClient(faults({ kind: 'status', status: 500 }));
    await ask(a.client).catch(() => undefined);
    expect((await control(`/_sim/reset?key=${a.key}`, {})).status).toBe(200);
    expect((await control(`/_sim/stats?key=${a.key}`)).json).toEqual({
      requests: {},
      faults: {},
      models: {},
      early_retries: 0,
    });
    await expect(ask(a.client)).resolves.toMatchObject({ status: 'completed' });
    await expect(ask(b.client)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('replaces the global config and resets it', async () => {
    const client = clientFor(`global-${randomUUID()}`);
    await control('/_sim/config', faults({ kind: 'status', status: 500, endpoint: '/v1/moderations' }));
    await control('/_sim/config', faults({ kind: 'status', status: 503, endpoint: '/v1/moderations' }));
    expect((await control('/_sim/config')).json).toEqual({
      scope: 'global',
      config: faults({ kind: 'status', status: 503, endpoint: '/v1/moderations' }),
    });
    await expect(client.moderations.create({ input: 'x' })).rejects.toMatchObject({ status: 503 });
    await control('/_sim/reset', {});
    await expect(client.moderations.create({ input: 'x' })).resolves.toMatchObject({
      model: 'omni-moderation-latest',
    });
    expect((await control('/_sim/stats')).json.requests).toEqual({ '/v1/moderations': 1 });
  });

  it('replaces the moderation word list', async () => {
    const { client } = await scopedClient({ moderation: { flagged_terms: ['scam:illicit', 'counterfeit'] } });
    const result = await client.moderations.create({ input: ['a bomb', 'a scam', 'Counterfeit bags'] });
    expect(result.results.map((r) => r.flagged)).toEqual([false, true, true]);
    expect(result.results[1]?.categories.illicit).toBe(true);
    expect(result.results[2]?.categories.harassment).toBe(true);
  });

  it('rejects an invalid config with a 400 and a message', async () => {
    const bad = await control('/_sim/config', { faults: [{ kind: 'status', rate: 3 }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error?.message).toMatch(/rate must be a number between 0 and 1/);
    const notJson = await control('/_sim/config', '{nope');
    expect(notJson.status).toBe(400);
    expect((await control('/_sim/nothing')).status).toBe(404);
  });
});

describe('run-level config', () => {
  it('applies options.config from the start and returns to it on reset', async () => {
    const own = await startSimulator({
      config: { faults: [{ kind: 'status', status: 502, endpoint: '/v1/embeddings' }] },
    });
    try {
      const client = new OpenAI({ apiKey: 'run-level', baseURL: `${own.url}/v1`, maxRetries: 0 });
      const embed = () => client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
      await expect(embed()).rejects.toMatchObject({ status: 502 });
      await fetch(`${own.url}/_sim/config`, { method: 'POST', body: '{}' });
      await expect(embed()).resolves.toMatchObject({ object: 'list' });
      await fetch(`${own.url}/_sim/reset`, { method: 'POST' });
      await expect(embed()).rejects.toMatchObject({ status: 502 });
    } finally {
      await own.close();
    }
  });

  it('rejects an invalid run config', async () => {
    await expect(startSimulator({ config: { latency_ms: -5 } })).rejects.toThrow(/latency_ms/);
  });

  it('closes promptly while a timeout fault holds a request open', async () => {
    const own = await startSimulator({ config: { faults: [{ kind: 'timeout' }] } });
    const client = new OpenAI({ apiKey: 'hang', baseURL: `${own.url}/v1`, maxRetries: 0, timeout: 10_000 });
    const pending = ask(client).catch((e: unknown) => e);
    // Close only once the simulator holds the request (it counts a request as it arrives).
    const held = async () => {
      const stats = (await (await fetch(`${own.url}/_sim/stats?key=hang`)).json()) as {
        requests: Record<string, number>;
      };
      return stats.requests['/v1/responses'] === 1;
    };
    for (let i = 0; i < 200 && !(await held()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await held()).toBe(true);
    const started = performance.now();
    await own.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});
