/**
 * Overload without collapse, through the gateway: while the isolate's Redis calls queue above
 * OVERLOAD_LATENCY_MS, new requests wait for a start (lib/admission.ts) and one that would wait past
 * OVERLOAD_WAIT_MS gets `503 overloaded` with Retry-After at once, having sent nothing to Redis; a
 * burst is let in a few dozen at a time and served whole; once the calls stop queueing, requests start
 * at once again.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../functions/index';
import type { Admitted } from '../../lib/admission';
import { createDeps, newIsolateState } from '../../lib/deps';
import { createStoreLoad } from '../../lib/store-load';
import { envWith } from '../support/env';
import { bearer, createTestKey } from '../support/keys';

/** The pace is set at most every 100 ms: a wait that lets the next request reset it. */
const pastAdjustment = () => new Promise((resolve) => setTimeout(resolve, 120));

/** What the isolate's admission tells each request from now on. */
function recordAdmissions(isolate: ReturnType<typeof newIsolateState>): Admitted[] {
  const admitted: Admitted[] = [];
  const enter = isolate.admission.enter;
  isolate.admission.enter = async (...args) => {
    const result = await enter(...args);
    admitted.push(result);
    return result;
  };
  return admitted;
}

/** A gateway whose isolate's Redis calls take as long as the test says (on their own clock). */
function overloadableGateway() {
  const isolate = newIsolateState();
  // Ahead of the wall clock, so nothing fades while the test runs.
  let clock = Date.now() + 60_000;
  isolate.storeLoad = createStoreLoad(() => clock);
  const callsTaking = async (ms: number, n = 1) => {
    for (let i = 0; i < n; i++) {
      await isolate.storeLoad.run(async () => {
        clock += ms;
      });
      clock -= ms; // every call ends at the same moment, within the store's few seconds of memory
    }
  };
  let redisRequests = 0;
  isolate.storeMiddleware = (req, next) => {
    redisRequests += 1;
    return next(req);
  };
  const app = createGateway((env) => createDeps(env, isolate));
  const send = async (env: ReturnType<typeof envWith>, path: string, headers: Record<string, string>) => {
    const ctx = createExecutionContext();
    const res = await app.request(path, { headers }, env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  return { isolate, callsTaking, send, redisRequests: () => redisRequests };
}

describe('overload', () => {
  it('sheds what would wait too long: 503 overloaded with Retry-After, no Redis command; serves again after', async () => {
    const gw = overloadableGateway();
    const env = envWith({ OVERLOAD_LATENCY_MS: '100', OVERLOAD_WAIT_MS: '0' });
    const { key } = await createTestKey({ rpm: 1000 });
    expect((await gw.send(env, '/v1/budget', bearer(key))).status).toBe(200);

    // Redis calls as an overloaded isolate sees them: the store answers in 1 ms, the isolate takes 5 s.
    await gw.callsTaking(1);
    await gw.callsTaking(5000, 3);
    await pastAdjustment();
    const before = gw.redisRequests();
    const shed = await Promise.all(Array.from({ length: 5 }, () => gw.send(env, '/v1/budget', bearer(key))));
    for (const res of shed) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const body = (await res.json()) as { error: { code: string; type: string; request_id: string } };
      expect(body.error).toMatchObject({ code: 'overloaded', type: 'api_error' });
      expect(body.error.request_id).toMatch(/^req_/);
    }
    // Unauthenticated or not, a shed request costs nothing: no lookup, no metrics write.
    expect((await gw.send(env, '/v1/budget', {})).status).toBe(503);
    expect(gw.redisRequests()).toBe(before);
    // Liveness needs no Redis and is never shed.
    expect((await gw.send(env, '/health', {})).status).toBe(200);

    // Fast calls bring the queueing down: served again.
    await gw.callsTaking(1, 20);
    await pastAdjustment();
    expect((await gw.send(env, '/v1/budget', bearer(key))).status).toBe(200);
  });

  it('while calls queue, requests wait for their start and are all served when the wait fits', async () => {
    const gw = overloadableGateway();
    const env = envWith({ OVERLOAD_LATENCY_MS: '100', OVERLOAD_WAIT_MS: '5000' });
    const { key } = await createTestKey({ rpm: 1000 });
    await gw.callsTaking(1);
    await gw.callsTaking(5000, 3);
    await pastAdjustment();
    const admitted = recordAdmissions(gw.isolate);
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => gw.send(env, '/v1/budget', bearer(key))),
    );
    expect(answers.map((res) => res.status)).toEqual(answers.map(() => 200));
    // They were paced: every one waited for its start, none was shed.
    expect(admitted).toHaveLength(30);
    for (const a of admitted) expect('waitedMs' in a && a.waitedMs > 0, JSON.stringify(a)).toBe(true);
  });

  it('never paces a closed loop of 50 clients on a fresh isolate, however fast it is answered, round after round', async () => {
    // Each client sends its next request once answered: never more than 50 at once, below the burst
    // size, so none waits for its start, though many more than 64 start within 100 ms.
    for (let round = 0; round < 3; round++) {
      const gw = overloadableGateway();
      const env = envWith({ OVERLOAD_BURST: '64' });
      const admitted = recordAdmissions(gw.isolate);
      const started = Date.now();
      const client = async () => {
        for (let i = 0; i < 20; i++) {
          // The public index: paced like any route, answered with no Redis call, so fast.
          expect((await gw.send(env, '/', {})).status).toBe(200);
        }
      };
      await Promise.all(Array.from({ length: 50 }, client));
      const tenths = Math.max(1, (Date.now() - started) / 100);
      expect(admitted, `round ${round}`).toHaveLength(1000);
      // Fast enough that counting starts, 64 within 100 ms would have been taken for a burst.
      expect(admitted.length / tenths, `round ${round}`).toBeGreaterThan(64);
      expect(
        admitted.filter((a) => !('waitedMs' in a && a.waitedMs === 0)),
        `round ${round}`,
      ).toEqual([]);
    }
  });

  it('serves a burst of 150 whole (let in a few dozen at a time), with no 503, round after round', async () => {
    for (let round = 0; round < 3; round++) {
      const gw = overloadableGateway();
      const env = envWith({ OVERLOAD_BURST: '64' });
      const { key } = await createTestKey({ rpm: 100_000 });
      const admitted = recordAdmissions(gw.isolate);
      const answers = await Promise.all(
        Array.from({ length: 150 }, () => gw.send(env, '/v1/budget', bearer(key))),
      );
      const statuses = answers.map((res) => res.status);
      expect(statuses, `round ${round}`).toEqual(statuses.map(() => 200));
      // Paced: some waited for their start (the first 64 or so did not), none was shed.
      const waited = admitted.filter((a) => 'waitedMs' in a && a.waitedMs > 0);
      expect(waited.length, `round ${round}`).toBeGreaterThan(0);
      expect(
        admitted.filter((a) => 'shedMs' in a),
        `round ${round}`,
      ).toEqual([]);
    }
  });
});
