import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { HealthResponse, PublicHealthResponse } from '../../functions/health';
import worker from '../../functions/index';
import pkg from '../../package.json';
import { bindings, envWith } from '../support/env';
import { redisCountingGateway } from '../support/gateway';
import { ADMIN_KEY, adminAuth, bearer, createTestKey } from '../support/keys';

async function call(path: string, env: Cloudflare.Env, headers: Record<string, string> = adminAuth) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://gateway${path}`, { headers }), env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('GET /health without the admin key', () => {
  it('answers status and version only, with no Redis command, before or after the response', async () => {
    const gateway = redisCountingGateway();
    const res = await gateway.request('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json<PublicHealthResponse>()).toEqual({ status: 'ok', version: pkg.version });
    expect(gateway.commands).toEqual([]);
  });

  it('gives a client key, a wrong key and a garbled bearer the same public answer, still without Redis', async () => {
    const { key } = await createTestKey();
    const gateway = redisCountingGateway();
    for (const auth of [bearer(key), bearer(`${ADMIN_KEY}x`), { authorization: 'Bearer' }]) {
      const res = await gateway.request('/health', { headers: auth });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', version: pkg.version });
    }
    expect(gateway.commands).toEqual([]);
  });

  it('reveals no configuration, even when Redis is down', async () => {
    const res = await call('/health', envWith({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' }), {});
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const configured of [bindings.OPENAI_BASE_URL, bindings.UPSTASH_REDIS_REST_URL, 'gpt-', 'local']) {
      expect(text).not.toContain(configured);
    }
  });
});

describe('GET /health with the admin key', () => {
  it('returns 200 ok after a real Redis round trip, naming local store and provider', async () => {
    const res = await exports.default.fetch('http://gateway/health', { headers: adminAuth });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json<HealthResponse>();
    expect(body.status).toBe('ok');
    expect(body.store).toMatchObject({ ok: true, mode: 'local' });
    expect(body.store.latency_ms).toBeGreaterThanOrEqual(0);
    expect(body.provider).toEqual({ name: 'openai', base_url: bindings.OPENAI_BASE_URL, mode: 'local' });
    expect(body.models).toEqual({
      text: 'gpt-6-luna',
      image: 'gpt-image-2.5-flare',
      moderation: 'omni-moderation-latest',
      embeddings: 'text-embedding-3-large',
      vision: 'gpt-6-luna',
    });
  });

  it('never includes a secret in its body', async () => {
    const text = await (await exports.default.fetch('http://gateway/health', { headers: adminAuth })).text();
    expect(text).not.toContain(bindings.UPSTASH_REDIS_REST_TOKEN);
    expect(text).not.toContain(bindings.OPENAI_API_KEY);
    expect(text).not.toContain(ADMIN_KEY);
  });

  it('returns 503 degraded when Redis cannot be reached', async () => {
    const res = await call('/health', envWith({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' }));
    expect(res.status).toBe(503);
    const body = await res.json<HealthResponse>();
    expect(body.status).toBe('degraded');
    expect(body.store.ok).toBe(false);
  });

  it('returns 503 degraded when the Redis token is rejected', async () => {
    const res = await call('/health', envWith({ UPSTASH_REDIS_REST_TOKEN: 'not-the-token' }));
    expect(res.status).toBe(503);
    expect((await res.json<HealthResponse>()).store.ok).toBe(false);
  });

  it('reports a remote provider and the configured models', async () => {
    const res = await call(
      '/health',
      envWith({ OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_TEXT_MODEL: 'gpt-4.1-mini' }),
    );
    const body = await res.json<HealthResponse>();
    expect(body.provider).toEqual({ name: 'openai', base_url: 'https://api.openai.com/v1', mode: 'remote' });
    expect(body.models.text).toBe('gpt-4.1-mini');
  });
});
