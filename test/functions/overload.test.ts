/**
 * Overload without collapse: while the isolate's Redis calls take longer than OVERLOAD_LATENCY_MS on
 * average, new requests are answered at once with `503 overloaded` and Retry-After and send nothing to
 * Redis; once the average has faded they are served again.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../functions/index';
import { createDeps, newIsolateState } from '../../lib/deps';
import { createStoreLoad } from '../../lib/store-load';
import { envWith } from '../support/env';
import { bearer, createTestKey } from '../support/keys';

describe('shedding under overload', () => {
  it('answers 503 overloaded with Retry-After and no Redis command while calls are slow; serves again after', async () => {
    const isolate = newIsolateState();
    // The load's own clock, so the test says how long Redis calls took whatever the machine's speed.
    let clock = Date.now();
    isolate.storeLoad = createStoreLoad(() => clock);
    const callTaking = (ms: number) =>
      isolate.storeLoad.run(async () => {
        clock += ms;
      });
    let redisRequests = 0;
    const app = createGateway((env) => {
      const deps = createDeps(env, isolate);
      deps.redis.use((req, next) => {
        redisRequests += 1;
        return next(req);
      });
      return deps;
    });
    const env = envWith({ OVERLOAD_LATENCY_MS: '100' });
    const { key } = await createTestKey({ rpm: 1000 });
    const get = async (path: string, headers: Record<string, string> = bearer(key)) => {
      const ctx = createExecutionContext();
      const res = await app.request(path, { headers }, env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    expect((await get('/v1/budget')).status).toBe(200);

    // Redis calls as an overloaded isolate sees them: one took five seconds.
    await callTaking(5000);
    const before = redisRequests;
    const shed = await Promise.all(Array.from({ length: 5 }, () => get('/v1/budget')));
    for (const res of shed) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const body = (await res.json()) as { error: { code: string; type: string; request_id: string } };
      expect(body.error).toMatchObject({ code: 'overloaded', type: 'api_error' });
      expect(body.error.request_id).toMatch(/^req_/);
    }
    // Unauthenticated or not, a shed request costs nothing: no lookup, no metrics write.
    expect((await get('/v1/budget', {})).status).toBe(503);
    expect(redisRequests).toBe(before);
    // Liveness needs no Redis and is never shed.
    expect((await get('/health', {})).status).toBe(200);

    // Fast calls bring the average down: served again.
    for (let i = 0; i < 20; i++) await callTaking(1);
    expect((await get('/v1/budget')).status).toBe(200);
  });
});
