import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { moderate } from '../../functions/moderate';
import { createApp } from '../../lib/app';
import { createDeps } from '../../lib/deps';
import type { ErrorBody } from '../../lib/errors';
import { protect } from '../../lib/guards';
import type { Verdict } from '../../lib/moderation';
import { envWith } from '../support/env';
import { bearer, createTestKey } from '../support/keys';
import { APPROVED_BY_ALL_LAYERS, URGENCY_REJECTED } from '../support/moderation';
import { simConfigure, simKey, simRequests } from '../support/providers';

/** The gateway as functions/index.ts will wire it: protected, with the endpoint mounted. */
const app = createApp(createDeps);
app.use(protect(() => false));
app.route('/', moderate);

let auth: Record<string, string>;
beforeAll(async () => {
  auth = bearer((await createTestKey()).key);
});

/** A fresh simulator key and moderation model, so faults and breakers stay with one test. */
function freshEnv(overrides: Record<string, unknown> = {}) {
  const key = simKey();
  const model = `omni-moderation-${crypto.randomUUID().slice(0, 8)}`;
  return { key, model, env: envWith({ OPENAI_API_KEY: key, OPENAI_MODERATION_MODEL: model, ...overrides }) };
}

async function post(body: unknown, env = freshEnv().env) {
  const ctx = createExecutionContext();
  const res = await app.request(
    '/v1/moderate',
    {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe('POST /v1/moderate', () => {
  it('answers 200 with an approved verdict and the provider and model that served it', async () => {
    const { env, model } = freshEnv();
    const res = await post({ text: 'Waterproof boots for autumn walks' }, env);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('openai');
    expect(res.headers.get('x-gateway-model')).toBe(model);
    const verdict = await res.json<Verdict>();
    expect(verdict).toMatchObject(APPROVED_BY_ALL_LAYERS);
    expect(verdict.categories.violence).toBe(false);
  });

  it('reports a business-rule rejection with 200, without calling OpenAI', async () => {
    const { env, key } = freshEnv();
    const res = await post({ text: 'Limited-time offer on boots' }, env);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBeNull();
    expect(await res.json<Verdict>()).toEqual(URGENCY_REJECTED);
    expect((await simRequests(key))['/v1/moderations']).toBeUndefined();
  });

  it('reports OpenAI flags for text and for a data-URL image', async () => {
    const text = await post({ text: 'A murder mystery boxed set' });
    expect(await text.json<Verdict>()).toMatchObject({
      approved: false,
      layer: 'openai',
      pattern: 'violence',
    });
    const image = await post({ image_url: `data:image/png;base64,${btoa('png bytes sim-flag here')}` });
    expect(image.status).toBe(200);
    const verdict = await image.json<Verdict>();
    expect(verdict).toMatchObject({ approved: false, layer: 'openai', checked: { openai: 'flagged' } });
    expect(verdict.categories['violence/graphic']).toBe(true);
  });

  it('applies MODERATION_RULES from env: configured competitors are rejected', async () => {
    const { env } = freshEnv({ MODERATION_RULES: JSON.stringify({ competitors: ['Acme'] }) });
    const verdict = await (await post({ text: 'Lighter than ACME boots' }, env)).json<Verdict>();
    expect(verdict).toMatchObject({ approved: false, layer: 'brand_safety', pattern: 'Acme' });
  });

  it('fails closed by default when the moderation API is down, and open with MODERATION_FAIL_CLOSED=false', async () => {
    const closed = freshEnv({ OPENAI_MAX_RETRIES: '0' });
    await simConfigure(closed.key, { faults: [{ kind: 'status', status: 503 }] });
    const res = await post({ text: 'Waterproof boots' }, closed.env);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBeNull();
    expect(await res.json<Verdict>()).toMatchObject({
      approved: false,
      layer: 'openai',
      reason: 'moderation unavailable',
      checked: { openai: 'unavailable' },
    });

    const open = freshEnv({ OPENAI_MAX_RETRIES: '0', MODERATION_FAIL_CLOSED: 'false' });
    await simConfigure(open.key, { faults: [{ kind: 'status', status: 503 }] });
    expect(await (await post({ text: 'Waterproof boots' }, open.env)).json<Verdict>()).toMatchObject({
      approved: true,
      checked: { openai: 'unavailable', business_rules: 'passed', brand_safety: 'passed' },
    });
    expect((await simRequests(open.key))['/v1/moderations']).toBe(1);
  });

  it('answers 500 misconfigured for invalid MODERATION_RULES, without the details', async () => {
    const rules = JSON.stringify({ business_rules: [{ name: 'x', pattern: 'secret(', reason: 'r' }] });
    const res = await post({ text: 'Waterproof boots' }, freshEnv({ MODERATION_RULES: rules }).env);
    expect(res.status).toBe(500);
    const { error } = await res.json<ErrorBody>();
    expect(error.code).toBe('misconfigured');
    expect(error.message).not.toContain('secret(');
  });

  it('passes an upstream 400 on as a 400 in the gateway error shape', async () => {
    const { env, key } = freshEnv();
    await simConfigure(key, { faults: [{ kind: 'status', status: 400 }] });
    const res = await post({ image_url: 'https://cdn.example.com/unreachable.png' }, env);
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error.type).toBe('invalid_request_error');
    expect(error.request_id).toMatch(/^req_/);
  });
});

describe('POST /v1/moderate validation', () => {
  it.each([
    ['no field', {}, undefined],
    ['empty text', { text: '' }, 'text'],
    ['blank text', { text: '  \n ' }, 'text'],
    ['10,001 characters of text', { text: 'x'.repeat(10_001) }, 'text'],
    ['a number as text', { text: 42 }, 'text'],
    ['an http image URL', { image_url: 'http://cdn.example.com/a.png' }, 'image_url'],
    ['an image URL that is no URL', { image_url: 'not a url' }, 'image_url'],
    ['a data URL that is no image', { image_url: 'data:text/plain;base64,aGk=' }, 'image_url'],
    ['a data URL that is no base64', { image_url: 'data:image/png;base64,not base64!' }, 'image_url'],
    ['an unknown field', { text: 'boots', extra: true }, 'extra'],
  ])('rejects %s with 400 invalid_request_error', async (_, body, param) => {
    const { env, key } = freshEnv();
    const res = await post(body, env);
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
    expect(await simRequests(key)).toEqual({});
  });

  it('accepts 10,000 characters of text', async () => {
    expect((await post({ text: `${'boots '.repeat(1666)}boot` })).status).toBe(200);
  });

  it('rejects a data-URL image over 1.5 MB even when the body limit allows it', async () => {
    const { env } = freshEnv({ MAX_BODY_BYTES: String(4 * 1_048_576) });
    const big = `data:image/png;base64,${'A'.repeat(2_000_100)}`;
    const res = await post({ image_url: big }, env);
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({ param: 'image_url', message: expect.stringContaining('1500000 bytes') });
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await post('{"text":');
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.type).toBe('invalid_request_error');
  });
});
