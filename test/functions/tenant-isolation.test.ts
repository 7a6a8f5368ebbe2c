/**
 * Each tenant sees its own: on every route a client key can call, a key gets the same status, headers
 * and body (ids and timestamps aside) whether or not another key made the same request before it. Per
 * route: key B1 asks first; key A asks the same (and spends); key B2, as fresh as B1, asks the same. A
 * cache, a budget figure or a count shared across tenants would make B2's answer differ from B1's.
 * All three share one simulator account, as keys share the gateway's OpenAI account in production.
 */
import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import worker, { app, isPublic } from '../../functions/index';
import { afterResponse, requestContext } from '../support/after-response';
import { envWith } from '../support/env';
import { bearer, createTestKey } from '../support/keys';
import { simConfigure, simKey } from '../support/providers';

interface Step {
  method: 'GET' | 'POST';
  path: string;
  json?: unknown;
}

interface Case {
  /** The request, from a word no other test sends (so nothing is cached from elsewhere). */
  request: (word: string, call: Caller) => Promise<Step>;
  /** What key A does besides the same request: spend, so a shared figure would move. */
  activity?: (word: string, call: Caller) => Promise<unknown>;
  /** The simulator account's settings for this route. */
  sim?: Record<string, unknown>;
  /**
   * The answer states what the call cost, and OpenAI's prompt cache belongs to the organisation: B2's
   * prompt prefix (the gateway's own instructions) may be billed as cached after A's call, so B2's cost
   * may be lower than B1's, never higher (docs/keys.md).
   */
  promptCached?: true;
}

type Caller = (step: Step) => Promise<Response>;

const chat = (word: string) => ({
  model: 'gpt-4.1-mini',
  messages: [{ role: 'user', content: `Name a trail shoe for ${word}` }],
  max_completion_tokens: 60,
});
const creative = (word: string) => ({
  opportunity: { id: 'opp_1', product_category: 'Hiking boots', description: `Boots for ${word} walks` },
  target_audience: 'weekend hikers in rainy regions',
  brand_voice: 'warm, practical, outdoorsy',
  tone: 'playful',
  needs_visual: false,
});
/** Submits a bulk job and returns its id: each key reads or cancels its own. */
const submitJob = async (word: string, call: Caller) => {
  const res = await call({ method: 'POST', path: '/v1/batches', json: bulk(word) });
  return ((await res.json()) as { id: string }).id;
};
const bulk = (word: string) => ({ task: 'opportunities', items: [{ intent: `Boots for ${word} trails` }] });
const spend = (word: string, call: Caller) =>
  call({ method: 'POST', path: '/openai/v1/chat/completions', json: chat(`${word} spend`) });

/** A 1×1 PNG. */
const PIXEL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

const CASES: Record<string, Case> = {
  'POST /v1/opportunities': {
    request: async (w) => ({ method: 'POST', path: '/v1/opportunities', json: { intent: `Boots for ${w}` } }),
  },
  'POST /v1/creatives': {
    request: async (w) => ({ method: 'POST', path: '/v1/creatives', json: creative(w) }),
  },
  'POST /v1/creatives/batch': {
    request: async (w) => ({ method: 'POST', path: '/v1/creatives/batch', json: { items: [creative(w)] } }),
    promptCached: true,
  },
  'POST /v1/images/analyze': {
    request: async (w) => ({
      method: 'POST',
      path: '/v1/images/analyze',
      json: { image_url: PIXEL, context: `A ${w} product shot` },
    }),
  },
  'POST /v1/match': {
    request: async (w) => ({
      method: 'POST',
      path: '/v1/match',
      json: {
        intent: `boots for ${w}`,
        candidates: [
          { id: 'a', text: `${w} boots` },
          { id: 'b', text: 'a tent' },
        ],
      },
    }),
  },
  'POST /v1/moderate': {
    request: async (w) => ({ method: 'POST', path: '/v1/moderate', json: { text: `Sturdy ${w} boots` } }),
  },
  'POST /v1/batches': { request: async (w) => ({ method: 'POST', path: '/v1/batches', json: bulk(w) }) },
  'GET /v1/batches/:id': {
    request: async (w, call) => ({ method: 'GET', path: `/v1/batches/${await submitJob(w, call)}` }),
  },
  'POST /v1/batches/:id/cancel': {
    request: async (w, call) => ({ method: 'POST', path: `/v1/batches/${await submitJob(w, call)}/cancel` }),
    // Batches still running when their key cancels them.
    sim: { batch: { duration_ms: 60_000 } },
  },
  'GET /v1/budget': { request: async () => ({ method: 'GET', path: '/v1/budget' }), activity: spend },
  'POST /openai/v1/chat/completions': {
    request: async (w) => ({ method: 'POST', path: '/openai/v1/chat/completions', json: chat(w) }),
  },
  'POST /openai/v1/responses': {
    request: async (w) => ({
      method: 'POST',
      path: '/openai/v1/responses',
      json: { model: 'gpt-4.1-mini', input: `Name a tent for ${w}`, max_output_tokens: 60 },
    }),
  },
  'POST /openai/v1/embeddings': {
    request: async (w) => ({
      method: 'POST',
      path: '/openai/v1/embeddings',
      json: { model: 'text-embedding-3-small', input: [`${w} boots`, `${w} tents`] },
    }),
  },
  'POST /openai/v1/moderations': {
    request: async (w) => ({
      method: 'POST',
      path: '/openai/v1/moderations',
      json: { input: `Sturdy ${w} boots` },
    }),
  },
  'POST /openai/v1/images/generations': {
    request: async (w) => ({
      method: 'POST',
      path: '/openai/v1/images/generations',
      json: { prompt: `A ${w} boot`, size: '1024x1024', quality: 'low' },
    }),
  },
  'GET /openai/v1/models': {
    request: async () => ({ method: 'GET', path: '/openai/v1/models' }),
    activity: spend,
  },
  'GET /openai/v1/models/:model': {
    request: async () => ({ method: 'GET', path: '/openai/v1/models/gpt-4.1-mini' }),
    activity: spend,
  },
};

/** Routes only the admin key (or a scrape token) may call: a client key gets 403 on each, no tenant data. */
const ADMIN_ONLY = new Set(['GET /v1/metrics', 'GET /metrics']);

/** Headers that name this request or this moment. */
const VOLATILE_HEADERS = new Set(['x-request-id', 'date', 'x-ratelimit-reset', 'content-length']);
/** Fields that name an object or a moment: a job, a key, a request, a response, a time. */
const VOLATILE_FIELDS =
  /^(id|created|created_at|completed_at|expires_at|updated_at|request_id|batch_id|input_file_id|output_file_id|day|resets_at|name)$/;
const VOLATILE_VALUES = /\b(req|key|bjob|batch|file|chatcmpl|resp|msg|rs|modr|img)[_-][A-Za-z0-9]+/g;

function normalise(value: unknown, field = ''): unknown {
  if (VOLATILE_FIELDS.test(field) && value !== null) return `<${field}>`;
  if (typeof value === 'string') return value.replace(VOLATILE_VALUES, '<$1>');
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v, k)]));
  return value;
}

/** Every `cost_usd` in a seen answer, in order. */
const costsOf = (seen: { body: unknown }) =>
  [...JSON.stringify(seen.body).matchAll(/"cost_usd":([0-9.e-]+)/g)].map((m) => Number(m[1]));
/** The seen answer with its costs replaced by a marker. */
const withoutCosts = <T extends { body: unknown }>(seen: T): T => ({
  ...seen,
  body: JSON.parse(JSON.stringify(seen.body).replace(/"cost_usd":[0-9.e-]+/g, '"cost_usd":"<cost>"')),
});

async function seen(res: Response) {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  const headers = [...res.headers].filter(([name]) => !VOLATILE_HEADERS.has(name));
  return { status: res.status, headers: Object.fromEntries(headers), body: normalise(body) };
}

describe('a key sees the same answers whether or not another key was active', () => {
  it('covers every route a client key can call', () => {
    const clientRoutes = app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.startsWith('/admin'))
      .filter((r) => !isPublic(r.path.replace(':id', '0'.repeat(64))))
      .map((r) => `${r.method} ${r.path}`)
      .filter((r) => !ADMIN_ONLY.has(r));
    expect(Object.keys(CASES).sort()).toEqual([...new Set(clientRoutes)].sort());
  });

  it.each(Object.keys(CASES))('%s', async (route) => {
    const { request, activity, sim: simConfig, promptCached } = CASES[route] as Case;
    const sim = simKey();
    if (simConfig) await simConfigure(sim, simConfig);
    const env = envWith({ OPENAI_API_KEY: sim });
    const [b1, a, b2] = await Promise.all([1, 2, 3].map(() => createTestKey({ rpm: 1000 })));
    const callerFor =
      (key: string): Caller =>
      async ({ method, path, json }) => {
        const headers = {
          ...bearer(key),
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        };
        const body = json !== undefined ? JSON.stringify(json) : undefined;
        const ctx = requestContext();
        const res = await worker.fetch(
          new Request(`http://gateway${path}`, { method, headers, body }),
          env,
          ctx,
        );
        // Read before waiting: a relayed answer's after-response work waits for its body to be read.
        const text = await res.text();
        await afterResponse(ctx);
        return new Response(text, { status: res.status, headers: res.headers });
      };
    const word = uniqueWord();
    const run = async (key: string) => {
      const call = callerFor(key);
      return seen(await call(await request(word, call)));
    };
    const first = await run(b1?.key ?? '');
    const other = callerFor(a?.key ?? '');
    await activity?.(word, other);
    await run(a?.key ?? '');
    const after = await run(b2?.key ?? '');
    expect(first.status).toBeLessThan(300);
    if (promptCached) {
      const [was, now] = [costsOf(first), costsOf(after)];
      expect(was.length).toBeGreaterThan(0);
      expect(now).toHaveLength(was.length);
      for (const [i, cost] of now.entries()) expect(cost).toBeLessThanOrEqual(was[i] as number);
    }
    expect(promptCached ? withoutCosts(after) : after).toEqual(promptCached ? withoutCosts(first) : first);
  });
});
