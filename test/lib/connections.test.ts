import { describe, expect, it } from 'vitest';
import { createConnectionPool, WORKERS_CONNECTION_LIMIT, withInvocationPool } from '../../lib/connections';
import { createDeps, newIsolateState } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { bindings } from '../support/env';
import { simConfigure, simKey } from '../support/providers';

/** GET /v1/models at the simulator, answered after `latencyMs`. */
const slowModels = (latencyMs: number) =>
  [
    `${bindings.SIMULATOR_URL}/v1/models`,
    { headers: { authorization: `Bearer ${simKey()}`, 'x-sim-latency-ms': String(latencyMs) } },
  ] as const;

/** A promise and the function that resolves it. */
function gate() {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('createConnectionPool', () => {
  it('runs upstream calls in at most limit - 1 slots, in arrival order, keeping one for the store', async () => {
    const pool = createConnectionPool(3);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      pool.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect([pool.active, pool.queued, started]).toEqual([2, 3, [0, 1]]);
    // A Redis call goes at once, in the slot upstream calls may not take.
    expect(await pool.run(async () => 'stored', null, 'store')).toBe('stored');
    gates[1]?.open();
    await runs[1];
    await Promise.resolve();
    expect([pool.active, pool.queued, started]).toEqual([2, 2, [0, 1, 2]]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect([pool.active, pool.queued]).toEqual([0, 0]);
  });

  it('serves queued store calls before queued upstream calls', async () => {
    const pool = createConnectionPool(2);
    const held = Array.from({ length: 2 }, gate);
    const holders = held.map((g, i) => pool.run(() => g.promise, null, i === 0 ? 'upstream' : 'store'));
    const order: string[] = [];
    const upstream = pool.run(async () => void order.push('upstream'));
    const store = pool.run(async () => void order.push('store'), null, 'store');
    await Promise.resolve();
    expect(pool.queued).toBe(2);
    held[1]?.open();
    await Promise.all([store, holders[1]]);
    expect(order).toEqual(['store']);
    held[0]?.open();
    await Promise.all([upstream, holders[0]]);
    expect(order).toEqual(['store', 'upstream']);
  });

  it("starts a call's timeout when it is sent, not while it waits for a slot", async () => {
    const pool = createConnectionPool(2);
    const [slowUrl, slowInit] = slowModels(2_000);
    const [url, init] = slowModels(50);
    const first = pool.fetch()(slowUrl, slowInit);
    // Queued behind 2 s, then answered in 50 ms: within its 1 s once sent, not counted from now.
    const second = pool.fetch(1_000)(url, init);
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
  });

  it('aborts a sent call whose headers do not come within its timeout', async () => {
    const pool = createConnectionPool(2);
    const [url, init] = slowModels(2000);
    const err = await pool
      .fetch(100)(url, init)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(pool.active).toBe(0);
  });

  it('never cuts a body still streaming once its headers came within the timeout', async () => {
    const key = simKey();
    // 12 events, 60 ms apart: the body takes ~700 ms, seven times the 100 ms timeout.
    await simConfigure(key, { stream_interval_ms: 60 });
    const pool = createConnectionPool(2);
    const started = Date.now();
    const res = await pool.fetch(100)(`${bindings.SIMULATOR_URL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-6-luna',
        stream: true,
        max_completion_tokens: 12,
        messages: [{ role: 'user', content: 'Count to twelve.' }],
      }),
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(Date.now() - started).toBeGreaterThan(300);
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it("queues a request's Redis calls behind its six connections, their timeout counted from sending", async () => {
    const deps = createDeps(parseEnv({ ...bindings, REDIS_TIMEOUT_MS: '1000' }));
    const held = gate();
    // Five slots taken by upstream calls and the sixth, the store's own, by another Redis call.
    const holders = Array.from({ length: WORKERS_CONNECTION_LIMIT }, (_, i) =>
      deps.connections.run(() => held.promise, null, i === 0 ? 'store' : 'upstream'),
    );
    const key = `test:connections:${crypto.randomUUID()}`;
    const write = withInvocationPool(deps.connections, () => deps.redis.set(key, 'queued', { ex: 60 }));
    // Queued for twice its timeout: had the timer started at the call, it would have failed by now.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(deps.connections.queued).toBe(1);
    held.open();
    await Promise.all(holders);
    expect(await write).toBe('OK');
    expect(await deps.redis.get(key)).toBe('queued');
  });

  it("shares the isolate's Redis client, each invocation's calls waiting in that invocation's own pool", async () => {
    const isolate = newIsolateState();
    const env = parseEnv(bindings);
    const [full, free] = [createDeps(env, isolate), createDeps(env, isolate)];
    expect(full.redis).toBe(free.redis);
    const held = gate();
    const holders = Array.from({ length: WORKERS_CONNECTION_LIMIT }, () =>
      full.connections.run(() => held.promise, null, 'store'),
    );
    const key = `test:connections:${crypto.randomUUID()}`;
    // The invocation with a free pool is served while the full one's call waits, through the same client.
    // Invocations run as tasks of their own (workerd runs another request's continuation as its own task
    // too), and a batch leaves within the task that began it: the next task starts a batch of its own.
    const queued = withInvocationPool(full.connections, () => full.redis.set(key, 'late', { ex: 60 }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await withInvocationPool(free.connections, () => free.redis.set(key, 'early', { ex: 60 }))).toBe(
      'OK',
    );
    expect(full.connections.queued).toBe(1);
    expect(free.connections.active).toBe(0);
    held.open();
    await Promise.all(holders);
    expect(await queued).toBe('OK');
    expect(await free.redis.get(key)).toBe('late');
  });

  it('takes a call its caller aborts while queued out of the queue, never sending it', async () => {
    const pool = createConnectionPool(2);
    const held = gate();
    const holder = pool.run(() => held.promise);
    const caller = new AbortController();
    let sent = false;
    const queued = pool.run(async () => {
      sent = true;
    }, caller.signal);
    expect(pool.queued).toBe(1);
    caller.abort(new Error('client went away'));
    await expect(queued).rejects.toThrow('client went away');
    expect(pool.queued).toBe(0);
    held.open();
    await holder;
    expect([pool.active, sent]).toEqual([0, false]);
  });
});
