import OpenAI, { type APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import worker from '../../functions/index';
import { costOf, MODEL_PRICES, type ModelPrice, nanosToUsd } from '../../lib/pricing';
import { chatUsage, responsesUsage } from '../../lib/proxy/usage';
import { requestContext } from '../support/after-response';
import { bindings } from '../support/env';
import { adminAuth, bearer } from '../support/keys';
import { simConfigure, simKey, simRequests } from '../support/providers';
import { dataOf, privateModel, proxyCaller, sseEvents, warmTokenizer } from './openai-proxy.support';

warmTokenizer();

const messages = [
  { role: 'user' as const, content: 'Describe a waterproof hiking boot for wet autumn trails' },
];
const chat = { model: 'gpt-4.1-mini', messages, stream: true };
const usd = (price: ModelPrice | undefined, usage: ReturnType<typeof chatUsage>) =>
  nanosToUsd(costOf(price as ModelPrice, usage ?? { inputTokens: 0, cachedTokens: 0, outputTokens: 0 }));

describe('streaming through /openai/v1', () => {
  it('relays chat as data-only SSE ending in [DONE], without the usage chunk the client did not ask for', async () => {
    const { raw, spentUsd } = await proxyCaller();
    const res = await raw('/chat/completions', chat);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await sseEvents(res);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = dataOf(events);
    expect(chunks.every((c) => (c.choices as unknown[]).length > 0)).toBe(true);
    // The gateway still read the usage it asked for: the budget settled exactly what it said.
    const withUsage = dataOf(
      await sseEvents(await raw('/chat/completions', { ...chat, stream_options: { include_usage: true } })),
    );
    const usageChunk = withUsage.at(-1) as { choices: unknown[]; usage: unknown };
    expect(usageChunk.choices).toEqual([]);
    const cost = usd(MODEL_PRICES['gpt-4.1-mini'], chatUsage(usageChunk.usage));
    expect(cost).toBeGreaterThan(0);
    const spent = await spentUsd();
    expect(spent.spent_usd).toBeCloseTo(2 * cost, 12);
    expect(spent.reserved_usd).toBe(0);
  });

  it("counts a stream's call in the metrics with the usage its last event carried", async () => {
    const namespace = `t-${crypto.randomUUID().slice(0, 12)}`;
    const { raw, spentUsd, env } = await proxyCaller({ METRICS_NAMESPACE: namespace });
    await sseEvents(await raw('/chat/completions', chat));
    const spent = await spentUsd();
    const res = await worker.fetch(
      new Request('http://gateway/v1/metrics?minutes=5&endpoint=/openai/v1/chat/completions', {
        headers: adminAuth,
      }),
      env,
      requestContext(),
    );
    const metrics = (await res.json()) as {
      total_calls: number;
      total_cost_usd: number;
      tokens: { output: number };
    };
    expect(metrics.total_calls).toBe(1);
    expect(metrics.tokens.output).toBeGreaterThan(0);
    expect(metrics.total_cost_usd).toBeCloseTo(spent.spent_usd, 12);
  });

  it('relays responses events by name and settles from response.completed', async () => {
    const { raw, spentUsd } = await proxyCaller();
    const res = await raw('/responses', {
      model: 'gpt-6-luna',
      input: 'Describe a rain jacket',
      stream: true,
    });
    const events = await sseEvents(res);
    for (const event of events) {
      const [name, data] = event.split('\n');
      expect(JSON.parse(data?.slice('data: '.length) ?? '').type).toBe(name?.slice('event: '.length));
    }
    expect(events[0]).toMatch(/^event: response\.created\n/);
    const completed = dataOf(events).at(-1) as { type: string; response: { usage: unknown } };
    expect(completed.type).toBe('response.completed');
    const cost = usd(MODEL_PRICES['gpt-6-luna'], responsesUsage(completed.response.usage));
    expect((await spentUsd()).spent_usd).toBeCloseTo(cost, 12);
  });

  it('sends each event on as it arrives: the first long before the upstream has finished', async () => {
    const { raw, sim } = await proxyCaller();
    await simConfigure(sim, { stream_interval_ms: 150 });
    const started = Date.now();
    const res = await raw('/chat/completions', chat);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const arrivals: number[] = [];
    for (let next = await reader.read(); !next.done; next = await reader.read())
      arrivals.push(Date.now() - started);
    expect(arrivals.length).toBeGreaterThan(10);
    // Buffered, every chunk would arrive together at the end.
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(1000);
  });

  it("settles a call that ends while a stream is open within the hold, without waiting for the stream's end", async () => {
    // The isolate's settle batch holds a settle while other reservations are open: at most
    // BUDGET_SETTLE_HOLD_MS, never until the last closes (a stream may run for minutes).
    const streaming = await proxyCaller();
    await simConfigure(streaming.sim, { stream_interval_ms: 60 });
    for (let round = 0; round < 3; round++) {
      const stream = await streaming.raw('/chat/completions', chat);
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      expect((await reader.read()).done).toBe(false);
      const plain = await proxyCaller();
      const res = await plain.raw('/chat/completions', { ...chat, stream: false });
      expect(res.status).toBe(200);
      await res.text();
      // Its work after the response ends with the hold, while the stream is still open (read no further).
      const spent = await plain.spentUsd();
      expect(spent.reserved_usd).toBe(0);
      expect(spent.spent_usd).toBeGreaterThan(0);
      // The stream's own reservation is still held meanwhile.
      const budget = await worker.fetch(
        new Request('http://gateway/v1/budget', { headers: bearer(streaming.key) }),
        streaming.env,
        requestContext(),
      );
      expect(((await budget.json()) as { key: { reserved_usd: number } }).key.reserved_usd).toBeGreaterThan(
        0,
      );
      while (!(await reader.read()).done);
      const done = await streaming.spentUsd();
      expect(done.reserved_usd).toBe(0);
      expect(done.spent_usd).toBeGreaterThan(0);
    }
  });

  it('ends a stream the provider drops midway with an error event, never [DONE], and settles the reservation', async () => {
    const { raw, sim, spentUsd } = await proxyCaller();
    await simConfigure(sim, { faults: [{ kind: 'drop', endpoint: '/v1/chat/completions' }] });
    const events = await sseEvents(await raw('/chat/completions', chat));
    expect(events).not.toContain('data: [DONE]');
    expect(events.length).toBeGreaterThan(2);
    const last = dataOf(events).at(-1) as { error: { code: string; request_id: string } };
    expect(last.error).toMatchObject({
      code: 'stream_interrupted',
      request_id: expect.stringMatching(/^req_/),
    });
    const spent = await spentUsd();
    // No usage arrived, so the whole reservation was settled; nothing stays reserved.
    expect(spent.spent_usd).toBeGreaterThan(0);
    expect(spent.reserved_usd).toBe(0);
  });

  /** Reads a stream's first bytes, then cancels it, as a client that went away does. */
  async function cutAfterFirstBytes(res: Response): Promise<void> {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
  }

  it('reads a stream the client cut on to its end, unforwarded, and settles its real cost', async () => {
    const paced = { stream_interval_ms: 20 };
    const body = { ...chat, model: 'gpt-4.1-mini' };
    const whole = await proxyCaller();
    await simConfigure(whole.sim, paced);
    await sseEvents(await whole.raw('/chat/completions', body));
    const full = await whole.spentUsd();

    const cut = await proxyCaller();
    await simConfigure(cut.sim, paced);
    await cutAfterFirstBytes(await cut.raw('/chat/completions', body));
    const spent = await cut.spentUsd();
    // The same deterministic answer: the provider generated (and bills) all of it, and the ledger says so.
    expect(spent.spent_usd).toBeCloseTo(full.spent_usd, 12);
    expect(spent.reserved_usd).toBe(0);

    // Told not to drain, the gateway cuts the upstream at once and charges the reservation.
    const noDrain = await proxyCaller({ PROXY_DRAIN_SECONDS: '0' });
    await simConfigure(noDrain.sim, paced);
    await cutAfterFirstBytes(await noDrain.raw('/chat/completions', body));
    const charged = await noDrain.spentUsd();
    expect(charged.spent_usd).toBeGreaterThan(full.spent_usd * 10);
    expect(charged.reserved_usd).toBe(0);
  });

  it('surfaces a broken stream to the SDK as an APIError, for chat and responses', async () => {
    const { client, sim } = await proxyCaller();
    await simConfigure(sim, { faults: [{ kind: 'drop' }] });
    const chatStream = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages,
      stream: true,
    });
    const chatError = await (async () => {
      for await (const _ of chatStream) {
        // drained until the error event
      }
    })().catch((e: unknown) => e);
    expect(chatError).toBeInstanceOf(OpenAI.APIError);
    expect((chatError as APIError).code).toBe('stream_interrupted');
    const responses = client.responses.stream({ model: 'gpt-6-luna', input: 'Describe a rain jacket' });
    const responsesError = await responses.finalResponse().catch((e: unknown) => e);
    expect(responsesError).toBeInstanceOf(OpenAI.APIError);
    expect((responsesError as APIError).code).toBe('stream_interrupted');
  });

  it('never caches a stream that failed: the retry goes upstream, and only a complete one is replayed', async () => {
    const { raw, sim, settled } = await proxyCaller();
    await simConfigure(sim, { faults: [{ kind: 'drop', endpoint: '/v1/chat/completions', times: 1 }] });
    const body = { ...chat, temperature: 0 };
    const failed = await raw('/chat/completions', body);
    expect(failed.headers.get('x-cache')).toBe('MISS');
    expect(await sseEvents(failed)).not.toContain('data: [DONE]');
    await settled();
    const retried = await raw('/chat/completions', body);
    expect(retried.headers.get('x-cache')).toBe('MISS');
    const complete = await retried.text();
    // The entry is written before the stream's last event: the replay needs no wait.
    const replayed = await raw('/chat/completions', body);
    expect(replayed.headers.get('x-cache')).toBe('HIT');
    expect(await replayed.text()).toBe(complete);
    expect((await simRequests(sim))['/v1/chat/completions']).toBe(2);
  });

  it('fails over to a backup before the first byte', async () => {
    const backupKey = simKey();
    const name = `b-${crypto.randomUUID().slice(0, 8)}`;
    const { model, PRICING_OVERRIDES } = privateModel();
    const { raw, sim } = await proxyCaller({
      PRICING_OVERRIDES,
      OPENAI_MAX_RETRIES: '0',
      BACKUP_SIM_KEY: backupKey,
      BACKUP_PROVIDERS: JSON.stringify([
        {
          name,
          base_url: `${bindings.SIMULATOR_URL}/v1`,
          api_key_env: 'BACKUP_SIM_KEY',
          models: { text: 'gpt-4.1-mini' },
        },
      ]),
    });
    await simConfigure(sim, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/chat/completions' }] });
    const res = await raw('/chat/completions', { ...chat, model });
    expect(res.headers.get('x-gateway-provider')).toBe(name);
    expect(res.headers.get('x-gateway-model')).toBe('gpt-4.1-mini');
    expect((await sseEvents(res)).at(-1)).toBe('data: [DONE]');
    expect((await simRequests(backupKey))['/v1/chat/completions']).toBe(1);
  });
});
