import OpenAI from 'openai';
import { beforeAll } from 'vitest';
import worker from '../../functions/index';
import type { KeySettings } from '../../lib/keys';
import { loadTokenCounter } from '../../lib/tokens';
import { afterResponse, requestContext } from '../support/after-response';
import { envWith } from '../support/env';
import { bearer, createTestKey } from '../support/keys';
import { simKey } from '../support/providers';

export const BASE_URL = 'http://gateway/openai/v1';

/**
 * A fresh client key and simulator account (faults and counts stay with one test) in front of the real
 * Worker: `client` is the unmodified `openai` SDK whose fetch is the Worker's fetch handler, `raw`
 * POSTs JSON to a proxy path. `settled()` waits for every request's waitUntil work (budget settles,
 * cache writes); call it after reading the bodies, since a stream settles only once it has been read.
 */
export async function proxyCaller(overrides: Record<string, unknown> = {}, keyOptions: KeySettings = {}) {
  const [{ key, id }, sim] = [await createTestKey({ rpm: 1000, ...keyOptions }), simKey()];
  const env = envWith({ OPENAI_API_KEY: sim, ...overrides });
  const pending: Promise<void>[] = [];
  let requests = 0;
  const gatewayFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    requests += 1;
    const ctx = requestContext();
    const res = await worker.fetch(new Request(input, init), env, ctx);
    pending.push(afterResponse(ctx));
    return res;
  };
  const clientFor = (apiKey: string, options: { maxRetries?: number } = {}) =>
    new OpenAI({ apiKey, baseURL: BASE_URL, fetch: gatewayFetch, maxRetries: 0, ...options });
  const raw = (path: string, json: unknown, headers: Record<string, string> = {}) =>
    gatewayFetch(`${BASE_URL}${path}`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json', ...headers },
      body: JSON.stringify(json),
    });
  /** What today's budget says this key spent, in USD, once every settle has run. */
  const spentUsd = async () => {
    await Promise.all(pending.splice(0));
    const res = await gatewayFetch('http://gateway/v1/budget', { headers: bearer(key) });
    return ((await res.json()) as { key: { spent_usd: number; reserved_usd: number } }).key;
  };
  return {
    key,
    id,
    sim,
    env,
    client: clientFor(key),
    clientFor,
    raw,
    spentUsd,
    settled: () => Promise.all(pending.splice(0)),
    requestCount: () => requests,
  };
}

/** PRICING_OVERRIDES entries for models of a test's own: text priced like gpt-4.1-mini. */
export const PRIVATE_PRICES = {
  text: { kind: 'text', inputPerMillion: 0.4, cachedInputPerMillion: 0.1, outputPerMillion: 1.6 },
  embedding: { kind: 'embedding', inputPerMillion: 0.02 },
  image: { kind: 'image', inputPerMillion: 5, cachedInputPerMillion: 1.25, outputPerMillion: 30 },
} as const;

/** A model id no other test uses, priced like gpt-4.1-mini, so its breaker in the shared Redis is this test's own. */
export function privateModel(kind: 'text' | 'embedding' = 'text') {
  const model = `proxy-test-${crypto.randomUUID().slice(0, 8)}`;
  return { model, PRICING_OVERRIDES: JSON.stringify({ [model]: PRIVATE_PRICES[kind] }) };
}

/** Reads a whole SSE body into its events (blank-line separated blocks). */
export async function sseEvents(res: Response): Promise<string[]> {
  return (await res.text()).split('\n\n').filter((block) => block.trim() !== '');
}

/** The JSON of each `data:` line of `events`, `[DONE]` excluded. */
export const dataOf = (events: string[]) =>
  events
    .map((e) => /^data: (.*)$/m.exec(e)?.[1])
    .filter((d): d is string => d !== undefined && d !== '[DONE]')
    .map((d) => JSON.parse(d) as Record<string, unknown>);

/**
 * Loads the tokenizer once for the file: its first load parses megabytes of rank tables, which under
 * the test runner's transform can take longer than one test's timeout.
 */
export function warmTokenizer(): void {
  beforeAll(async () => {
    await loadTokenCounter();
  }, 120_000);
}
