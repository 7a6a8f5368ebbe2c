/**
 * Overload without collapse: once the isolate's oldest waiting Redis request is older than
 * OVERLOAD_QUEUE_MS, new requests are answered at once with `503 overloaded` and Retry-After, and send
 * nothing to Redis; as soon as the queue drains they are served again.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../functions/index';
import { createDeps, newIsolateState } from '../../lib/deps';
import { createStoreGate } from '../../lib/store-gate';
import { envWith } from '../support/env';
import { bearer, createTestKey } from '../support/keys';

describe('shedding under overload', () => {
  it('answers 503 overloaded with Retry-After, no Redis command, while the queue is too old; serves again after', async () => {
    const isolate = newIsolateState();
    // One Redis request at a time in this isolate, so the test can hold the queue.
    isolate.storeGate = createStoreGate(1);
    let redisRequests = 0;
    const app = createGateway((env) => {
      const deps = createDeps(env, isolate);
      deps.redis.use((req, next) => {
        redisRequests += 1;
        return next(req);
      });
      return deps;
    });
    const env = envWith({ OVERLOAD_QUEUE_MS: '100' });
    const { key } = await createTestKey({ rpm: 1000 });
    const get = async (path: string, headers: Record<string, string> = bearer(key)) => {
      const ctx = createExecutionContext();
      const res = await app.request(path, { headers }, env, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    expect((await get('/v1/budget')).status).toBe(200);

    // A slow call holds the only slot, and another waits behind it.
    let release: () => void = () => undefined;
    const slow = isolate.storeGate.run(
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    const waiting = isolate.storeGate.run(async () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 150));

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

    release();
    await Promise.all([slow, waiting]);
    expect((await get('/v1/budget')).status).toBe(200);
  });
});
