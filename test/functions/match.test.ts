import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import type { ErrorBody } from '../../lib/errors';
import { envWith } from '../support/env';
import { callGateway } from '../support/gateway';
import { bearer, createTestKey } from '../support/keys';
import { simKey, simRequests } from '../support/providers';

interface MatchBody {
  ranked: { id: string; score: number }[];
  model: string;
  dimensions: number;
  embedded: number;
}

/** Texts unique to one test run, so the shared embedding cache starts cold for them. */
const fresh = (text: string) => `${text} ${uniqueWord()}`;

async function setup(overrides: Record<string, unknown> = {}) {
  const [{ key }, sim] = [await createTestKey({ rpm: 1000 }), simKey()];
  const env = envWith({ OPENAI_API_KEY: sim, ...overrides });
  const post = (json: unknown, k = key) => callGateway('/v1/match', { json, headers: bearer(k) }, env);
  return { sim, post };
}

describe('POST /v1/match', () => {
  it('ranks candidates by cosine similarity, best first, the identical text at the top with score 1', async () => {
    const { post } = await setup();
    const intent = fresh('waterproof hiking boots');
    const res = await post({
      intent,
      candidates: [
        { id: 'a', text: fresh('garden hose') },
        { id: 'same', text: intent },
        { id: 'b', text: fresh('rain jacket') },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model')).toBe('text-embedding-3-large');
    const body = await res.json<MatchBody>();
    expect(body).toMatchObject({ model: 'text-embedding-3-large', dimensions: 1024, embedded: 3 });
    expect(body.ranked[0]).toEqual({ id: 'same', score: 1 });
    const scores = body.ranked.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    expect(new Set(body.ranked.map((r) => r.id))).toEqual(new Set(['a', 'same', 'b']));
  });

  it('embeds a catalogue once: a second match with the same texts makes no embedding call', async () => {
    const { post, sim } = await setup();
    const json = { intent: fresh('boots'), candidates: [{ id: 'x', text: fresh('socks') }] };
    const first = await (await post(json)).json<MatchBody>();
    const again = await post(json);
    expect(again.headers.get('x-gateway-provider')).toBeNull();
    const body = await again.json<MatchBody>();
    expect(body.embedded).toBe(0);
    expect(body.ranked).toEqual(first.ranked);
    expect((await simRequests(sim))['/v1/embeddings']).toBe(1);
  });

  it('embeds only the texts it has not seen, in one call', async () => {
    const { post, sim } = await setup();
    const known = fresh('gaiters');
    await post({ intent: known, candidates: [{ id: 'k', text: known }] });
    const res = await post({
      intent: known,
      candidates: [
        { id: 'n', text: fresh('insoles') },
        { id: 'k', text: known },
      ],
    });
    expect((await res.json<MatchBody>()).embedded).toBe(1);
    expect((await simRequests(sim))['/v1/embeddings']).toBe(2);
  });

  it.each([
    [{ intent: 'boots', candidates: [] }, 'candidates'],
    [
      { intent: 'boots', candidates: Array.from({ length: 101 }, (_, i) => ({ id: `c${i}`, text: 't' })) },
      'candidates',
    ],
    [
      {
        intent: 'boots',
        candidates: [
          { id: 'a', text: 'x' },
          { id: 'a', text: 'y' },
        ],
      },
      'candidates',
    ],
    [{ intent: '', candidates: [{ id: 'a', text: 'x' }] }, 'intent'],
    [{ intent: 'boots', candidates: [{ id: 'a', text: '' }] }, 'candidates.0.text'],
  ])('rejects %j with 400 at no cost', async (json, param) => {
    const { post, sim } = await setup();
    const res = await post(json);
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.param).toBe(param);
    expect(await simRequests(sim)).toEqual({});
  });

  it('refuses with 429 budget_exceeded when the key budget cannot cover the embeddings', async () => {
    const { post, sim } = await setup();
    const { key } = await createTestKey({ daily_budget_usd: 0.000_000_001 });
    const res = await post({ intent: fresh('boots'), candidates: [{ id: 'a', text: fresh('socks') }] }, key);
    expect(res.status).toBe(429);
    expect((await res.json<ErrorBody>()).error.code).toBe('budget_exceeded');
    expect(await simRequests(sim)).toEqual({});
  });
});
