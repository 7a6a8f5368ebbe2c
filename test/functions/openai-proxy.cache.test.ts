import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { costOf, MODEL_PRICES, type ModelPrice, nanosToUsd } from '../../lib/pricing';
import { chatUsage } from '../../lib/proxy/usage';
import { callGateway } from '../support/gateway';
import { bearer, createTestKey } from '../support/keys';
import { simConfigure, simRequests } from '../support/providers';
import { privateModel, proxyCaller, warmTokenizer } from './openai-proxy.support';

warmTokenizer();

/** A prompt no other test sends, so the shared cache starts cold for it. */
const fresh = () => [{ role: 'user', content: `Suggest trail shoes, order ${uniqueWord()}` }];

describe('budget and cache on /openai/v1', () => {
  it('settles exactly what the answer usage says, and a cache hit costs nothing', async () => {
    const { raw, spentUsd } = await proxyCaller();
    const body = { model: 'gpt-4.1-mini', messages: fresh(), temperature: 0, max_tokens: 300 };
    const first = await raw('/chat/completions', body);
    const usage = chatUsage(((await first.json()) as { usage: unknown }).usage);
    const cost = nanosToUsd(
      costOf(MODEL_PRICES['gpt-4.1-mini'] as ModelPrice, usage as NonNullable<typeof usage>),
    );
    expect(cost).toBeGreaterThan(0);
    expect(await spentUsd()).toMatchObject({ spent_usd: cost, reserved_usd: 0 });
    expect((await raw('/chat/completions', body)).headers.get('x-cache')).toBe('HIT');
    expect((await spentUsd()).spent_usd).toBe(cost);
  });

  it('answers a repeated temperature-0 request from the cache, byte for byte, with no upstream call', async () => {
    const { raw, sim } = await proxyCaller();
    const body = { model: 'gpt-4.1-mini', messages: fresh(), temperature: 0 };
    const miss = await raw('/chat/completions', body);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    // Same request, keys in another order: the canonical key still matches.
    const hit = await raw('/chat/completions', {
      temperature: 0,
      messages: body.messages,
      model: body.model,
    });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('x-gateway-provider')).toBeNull();
    expect(await hit.text()).toBe(await miss.text());
    expect((await simRequests(sim))['/v1/chat/completions']).toBe(1);
  });

  it('keeps each key its own cache namespace', async () => {
    const { raw, env } = await proxyCaller();
    const body = { model: 'gpt-4.1-mini', messages: fresh(), temperature: 0 };
    await raw('/chat/completions', body);
    const other = await createTestKey({ rpm: 1000 });
    const res = await callGateway(
      '/openai/v1/chat/completions',
      { json: body, headers: bearer(other.key) },
      env,
    );
    expect(res.headers.get('x-cache')).toBe('MISS');
  });

  it('does not cache sampled requests unless the client opts in with x-gateway-cache: on', async () => {
    const { raw, sim } = await proxyCaller();
    const sampled = { model: 'gpt-4.1-mini', messages: fresh(), temperature: 0.7 };
    expect((await raw('/chat/completions', sampled)).headers.get('x-cache')).toBe('BYPASS');
    expect((await raw('/chat/completions', sampled)).headers.get('x-cache')).toBe('BYPASS');
    const optIn = { 'x-gateway-cache': 'on' };
    expect((await raw('/chat/completions', sampled, optIn)).headers.get('x-cache')).toBe('MISS');
    expect((await raw('/chat/completions', sampled, optIn)).headers.get('x-cache')).toBe('HIT');
    expect((await simRequests(sim))['/v1/chat/completions']).toBe(3);
  });

  it('caches embeddings by default, and skips the read on cache-control: no-cache', async () => {
    const { raw, sim } = await proxyCaller();
    const body = { model: 'text-embedding-3-small', input: `boots ${uniqueWord()}` };
    expect((await raw('/embeddings', body)).headers.get('x-cache')).toBe('MISS');
    expect((await raw('/embeddings', body)).headers.get('x-cache')).toBe('HIT');
    expect((await raw('/embeddings', body, { 'cache-control': 'no-cache' })).headers.get('x-cache')).toBe(
      'BYPASS',
    );
    expect((await simRequests(sim))['/v1/embeddings']).toBe(2);
  });

  it('charges a call that timed out its whole reservation, and retries it only with room for another bill', async () => {
    const { model, PRICING_OVERRIDES } = privateModel();
    const body = { model, max_completion_tokens: 1000 };
    // Room for one reservation of this call ($0.0016 of output and a little input), not two.
    const tight = await proxyCaller(
      { OPENAI_TIMEOUT_SECONDS: '1', PRICING_OVERRIDES },
      { daily_budget_usd: 0.0025 },
    );
    await simConfigure(tight.sim, { faults: [{ kind: 'timeout', endpoint: '/v1/chat/completions' }] });
    const res = await tight.raw('/chat/completions', { ...body, messages: fresh() });
    expect(res.status).toBe(504);
    expect((await simRequests(tight.sim))['/v1/chat/completions']).toBe(1);
    const once = await tight.spentUsd();
    // Nothing is left reserved: the reservation became spend.
    expect(once.reserved_usd).toBe(0);
    expect(once.spent_usd).toBeGreaterThan(0.0016);
    expect(once.spent_usd).toBeLessThan(0.002);

    // With room, each retry reserves again, and each timed-out attempt is charged in full.
    const roomy = await proxyCaller({ OPENAI_TIMEOUT_SECONDS: '1', PRICING_OVERRIDES });
    await simConfigure(roomy.sim, {
      faults: [{ kind: 'timeout', endpoint: '/v1/chat/completions', times: 2 }],
    });
    const served = await roomy.raw('/chat/completions', { ...body, messages: fresh() });
    expect(served.status).toBe(200);
    expect((await simRequests(roomy.sim))['/v1/chat/completions']).toBe(3);
    const twice = await roomy.spentUsd();
    expect(twice.reserved_usd).toBe(0);
    expect(twice.spent_usd).toBeGreaterThan(2 * once.spent_usd);
    expect(twice.spent_usd).toBeLessThan(3 * once.spent_usd);
  });

  it('never caches images, even when asked', async () => {
    const { raw, sim } = await proxyCaller();
    const body = { model: 'gpt-image-2', prompt: 'a boot', size: '1024x1024', quality: 'low' };
    for (let i = 0; i < 2; i++) {
      const res = await raw('/images/generations', body, { 'x-gateway-cache': 'on' });
      expect(res.headers.get('x-cache')).toBe('BYPASS');
      // The answer is relayed as it arrives: read it, as any client does, for the call to end.
      await res.arrayBuffer();
    }
    expect((await simRequests(sim))['/v1/images/generations']).toBe(2);
  });

  it('replays a completed temperature-0 stream from the cache as the same events', async () => {
    const { raw, sim } = await proxyCaller();
    const body = {
      model: 'gpt-6-luna',
      input: `Describe boots ${uniqueWord()}`,
      temperature: 0,
      stream: true,
    };
    const first = await raw('/responses', body);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const streamed = await first.text();
    // The entry is written before the stream's last event: the replay needs no wait.
    const replay = await raw('/responses', body);
    expect(replay.headers.get('x-cache')).toBe('HIT');
    expect(replay.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await replay.text()).toBe(streamed);
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
  });
});
