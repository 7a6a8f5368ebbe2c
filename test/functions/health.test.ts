import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { HealthResponse } from '../../functions/health';
import worker from '../../functions/index';
import { bindings, envWith } from '../support/env';

async function call(path: string, env: Cloudflare.Env) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://gateway${path}`), env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('GET /health', () => {
  it('returns 200 ok after a real Redis round trip, naming local store and provider', async () => {
    const res = await exports.default.fetch('http://gateway/health');
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
    const text = await (await exports.default.fetch('http://gateway/health')).text();
    expect(text).not.toContain(bindings.UPSTASH_REDIS_REST_TOKEN);
    expect(text).not.toContain(bindings.OPENAI_API_KEY);
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
