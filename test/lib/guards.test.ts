import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app';
import { createDeps, type IsolateState, newIsolateState } from '../../lib/deps';
import type { ErrorBody } from '../../lib/errors';
import { protect } from '../../lib/guards';
import { envWith } from '../support/env';
import { adminAuth, bearer, createTestKey } from '../support/keys';
import { withinOneMinute } from '../support/minute';

/** A gateway with one protected route, counting the Redis HTTP requests it makes. */
function countingApp(isolate: IsolateState = newIsolateState()) {
  const counter = { redisRequests: 0 };
  // Unmetered, so only the guards' own Redis requests are counted.
  isolate.storeMiddleware = (req, next) => {
    counter.redisRequests += 1;
    return next(req);
  };
  const app = createApp((env) => createDeps(env, isolate), { unmetered: () => true });
  app.use(protect(() => false));
  app.get('/v1/ping', (c) => c.json({ principal: c.get('principal') }));
  return { app, counter };
}

async function get(
  app: ReturnType<typeof countingApp>['app'],
  headers: Record<string, string>,
  env = envWith({}),
) {
  const ctx = createExecutionContext();
  const res = await app.request('/v1/ping', { headers }, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('rate limit per key', () => {
  it('counts down in headers, then answers 429 with Retry-After, the key own rpm applied', async () => {
    await withinOneMinute();
    const { key, id } = await createTestKey({ rpm: 3 });
    const { app } = countingApp();
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await get(app, bearer(key));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe('3');
      remaining.push(res.headers.get('x-ratelimit-remaining'));
      expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const denied = await get(app, bearer(key));
    expect(denied.status).toBe(429);
    expect(Number(denied.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(denied.headers.get('x-ratelimit-remaining')).toBe('0');
    const { error } = await denied.json<ErrorBody>();
    expect(error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(id).toMatch(/^key_/);
  });

  it('remembers a denial in the isolate: the next denied request skips the rate-limit round trip', async () => {
    await withinOneMinute();
    const { key } = await createTestKey({ rpm: 1 });
    const { app, counter } = countingApp();
    expect((await get(app, bearer(key))).status).toBe(200);
    expect((await get(app, bearer(key))).status).toBe(429);
    const before = counter.redisRequests;
    expect((await get(app, bearer(key))).status).toBe(429);
    // Only the key lookup went to Redis; the limiter answered from its ephemeral cache.
    expect(counter.redisRequests - before).toBe(1);
  });

  it('limits keys independently', async () => {
    await withinOneMinute();
    const [a, b] = await Promise.all([createTestKey({ rpm: 1 }), createTestKey({ rpm: 1 })]);
    const { app } = countingApp();
    expect((await get(app, bearer(a.key))).status).toBe(200);
    expect((await get(app, bearer(a.key))).status).toBe(429);
    expect((await get(app, bearer(b.key))).status).toBe(200);
  });

  it('fails open (and says so in the log) when Redis cannot be reached, for the admin key', async () => {
    const { app } = countingApp();
    const res = await get(app, adminAuth, envWith({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('fails closed for a client key when Redis cannot be reached: 503, not a guess', async () => {
    const { key } = await createTestKey();
    const { app } = countingApp();
    const res = await get(app, bearer(key), envWith({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' }));
    expect(res.status).toBe(503);
    expect((await res.json<ErrorBody>()).error.code).toBe('store_unavailable');
  });

  it('answers a client key on an admin route with 401, not a 500, when Redis cannot tell it from a wrong one', async () => {
    const { key } = await createTestKey();
    const { app } = countingApp();
    const ctx = createExecutionContext();
    const env = envWith({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' });
    const res = await app.request('/admin/keys', { headers: bearer(key) }, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(401);
    expect((await res.json<ErrorBody>()).error.code).toBe('invalid_api_key');
  });

  it('checks key and rate limit in ONE Redis round trip once the isolate knows the key', async () => {
    const { key } = await createTestKey({ rpm: 100 });
    const { app, counter } = countingApp();
    expect((await get(app, bearer(key))).status).toBe(200);
    const before = counter.redisRequests;
    const res = await get(app, bearer(key));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBe('100');
    expect(counter.redisRequests - before).toBe(1);
  });

  it('rejects a revoked key even when the isolate remembers it', async () => {
    const { key, id } = await createTestKey();
    const { app } = countingApp();
    expect((await get(app, bearer(key))).status).toBe(200);
    const admin = createApp(createDeps);
    admin.use(protect(() => false));
    const { adminKeys } = await import('../../functions/admin-keys');
    admin.route('/', adminKeys);
    const ctx = createExecutionContext();
    await admin.request(`/admin/keys/${id}`, { method: 'DELETE', headers: adminAuth }, envWith({}), ctx);
    await waitOnExecutionContext(ctx);
    expect((await get(app, bearer(key))).status).toBe(401);
  });
});
