import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedService, spawnService } from '../support/node/spawn-service.ts';

// BRIDGE_LATENCY_MS (#18): every Upstash REST request waits that long before it is answered, once per
// HTTP request, as one network round trip to a real database would cost.
const LATENCY_MS = 150;
const TOKEN = 'latency-test-token';

describe('bridge started with BRIDGE_LATENCY_MS', () => {
  let bridge: SpawnedService;
  beforeAll(async () => {
    bridge = await spawnService('dev/bridge/main.ts', {
      BRIDGE_PORT: '0',
      BRIDGE_BACKEND: 'embedded',
      BRIDGE_LATENCY_MS: String(LATENCY_MS),
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
    });
  });
  afterAll(() => bridge?.stop());

  async function timed(path: string, body: unknown) {
    const t0 = performance.now();
    const res = await fetch(`${bridge.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    return { status: res.status, json, ms: performance.now() - t0 };
  }

  async function stats(): Promise<{ requests: number; commands: number }> {
    return (await fetch(`${bridge.url}/_bridge/stats`)).json() as Promise<{
      requests: number;
      commands: number;
    }>;
  }

  it('answers a single command no sooner than the delay', async () => {
    const res = await timed('/', ['set', 'latency:one', 'v']);
    expect(res).toMatchObject({ status: 200, json: { result: 'OK' } });
    expect(res.ms).toBeGreaterThanOrEqual(LATENCY_MS);
  });

  it('makes a pipeline of five commands pay the delay once, not five times', async () => {
    const before = await stats();
    const commands = Array.from({ length: 5 }, (_, i) => ['incr', `latency:pipe:${i}`]);
    const res = await timed('/pipeline', commands);
    expect(res.status).toBe(200);
    expect(res.json).toHaveLength(5);
    expect(res.ms).toBeGreaterThanOrEqual(LATENCY_MS);
    expect(res.ms).toBeLessThan(2 * LATENCY_MS);
    expect(await stats()).toEqual({ requests: before.requests + 1, commands: before.commands + 5 });
  });

  it('does not delay its own control endpoints', async () => {
    const t0 = performance.now();
    await stats();
    expect(performance.now() - t0).toBeLessThan(LATENCY_MS);
  });
});
