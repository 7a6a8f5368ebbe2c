import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import worker from '../../functions/index';
import { requestContext } from '../support/after-response';
import { envWith } from '../support/env';
import { bearer, createTestKey } from '../support/keys';
import { simKey, simRequests } from '../support/providers';

// A client that sends the same request again as soon as it has read the first answer must get a HIT
// (for /v1/match: no text embedded again): the entry is written before the answer leaves the gateway,
// never in the work that follows it (waitUntil). These calls deliberately do not wait for that work
// between the two requests; it is awaited after each test (test/support/worker-setup.ts).

const ROUNDS = 50;

/** A caller with its own key and simulator account whose requests are not waited on after they answer. */
async function caller() {
  const [{ key }, sim] = [await createTestKey({ rpm: 10_000 }), simKey()];
  const env = envWith({ OPENAI_API_KEY: sim, OPENAI_RATE_LIMIT_RPM: 100_000 });
  /** POSTs `json` and reads the whole body, as a client does before it sends the next request. */
  const send = async (path: string, json: unknown) => {
    const ctx = requestContext();
    const res = await worker.fetch(
      new Request(`http://gateway${path}`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json' },
        body: JSON.stringify(json),
      }),
      env,
      ctx,
    );
    const body = await res.text();
    return { status: res.status, cache: res.headers.get('x-cache'), body };
  };
  /** Sends `json` twice in a row, returning both answers. */
  const pair = async (path: string, json: unknown) =>
    [await send(path, json), await send(path, json)] as const;
  /** Sends `json` twice in a row: a MISS, then a HIT with the same answer. */
  const twice = async (path: string, json: unknown) => {
    const first = await send(path, json);
    const second = await send(path, json);
    expect([first.status, first.cache], first.body).toEqual([200, 'MISS']);
    expect([second.status, second.cache]).toEqual([200, 'HIT']);
    return [first.body, second.body] as const;
  };
  return { sim, twice, pair };
}

/** Text no other request sends. */
const round = (i: number) => `${i} ${uniqueWord()}`;

describe('back-to-back identical requests', () => {
  it(`proxy JSON: the second is a HIT with the same body, ${ROUNDS} times`, async () => {
    const { sim, twice } = await caller();
    for (let i = 0; i < ROUNDS; i++) {
      const body = {
        model: 'gpt-4.1-mini',
        messages: [{ role: 'user', content: `Trail shoes, round ${round(i)}` }],
        temperature: 0,
      };
      const [miss, hit] = await twice('/openai/v1/chat/completions', body);
      expect(hit).toBe(miss);
    }
    expect((await simRequests(sim))['/v1/chat/completions']).toBe(ROUNDS);
  });

  it(`proxy stream: the second, sent after the last event, replays it as a HIT, ${ROUNDS} times`, async () => {
    const { sim, twice } = await caller();
    for (let i = 0; i < ROUNDS; i++) {
      const body = {
        model: 'gpt-6-luna',
        input: `Describe boots, round ${round(i)}`,
        temperature: 0,
        stream: true,
      };
      const [miss, hit] = await twice('/openai/v1/responses', body);
      expect(miss).toContain('response.completed');
      expect(hit).toBe(miss);
    }
    expect((await simRequests(sim))['/v1/responses']).toBe(ROUNDS);
  });

  it(`opportunities: the second is a HIT, ${ROUNDS} times`, async () => {
    const { sim, twice } = await caller();
    for (let i = 0; i < ROUNDS; i++) {
      const [miss, hit] = await twice('/v1/opportunities', { intent: `Waterproof boots, trip ${round(i)}` });
      const opportunities = (body: string) => (JSON.parse(body) as { opportunities: unknown }).opportunities;
      expect(opportunities(hit)).toEqual(opportunities(miss));
    }
    expect((await simRequests(sim))['/v1/responses']).toBe(ROUNDS);
  });

  it(`match: the second embeds nothing and ranks the same, ${ROUNDS} times`, async () => {
    const { sim, pair } = await caller();
    for (let i = 0; i < ROUNDS; i++) {
      const word = round(i);
      const request = {
        intent: `Waterproof boots ${word}`,
        candidates: [
          { id: 'a', text: `Rain boots ${word}` },
          { id: 'b', text: `Sun hats ${word}` },
        ],
      };
      const [first, second] = await pair('/v1/match', request);
      const body = (answer: { body: string }) =>
        JSON.parse(answer.body) as { ranked: unknown; embedded: number };
      expect([first.status, body(first).embedded]).toEqual([200, 3]);
      expect([second.status, body(second).embedded]).toEqual([200, 0]);
      expect(body(second).ranked).toEqual(body(first).ranked);
    }
    expect((await simRequests(sim))['/v1/embeddings']).toBe(ROUNDS);
  });

  it(`creatives, with and without an image: the second is a HIT, ${ROUNDS} times`, async () => {
    const { sim, twice } = await caller();
    for (let i = 0; i < ROUNDS; i++) {
      const request = {
        opportunity: {
          id: `opp_${i}`,
          product_category: `Boots ${round(i)}`,
          description: 'Waterproof boots',
        },
        target_audience: 'weekend hikers',
        brand_voice: 'warm, practical',
        needs_visual: i % 2 === 0,
      };
      const [miss, hit] = await twice('/v1/creatives', request);
      const made = (body: string) => {
        const { copy, image } = JSON.parse(body) as { copy: string; image: { id: string } | null };
        return { copy, image: image?.id ?? null };
      };
      expect(made(hit)).toEqual(made(miss));
      expect(made(hit).image === null).toBe(i % 2 !== 0);
    }
    const calls = await simRequests(sim);
    expect(calls['/v1/responses']).toBe(ROUNDS);
    expect(calls['/v1/images/generations']).toBe(ROUNDS / 2);
  });
});
