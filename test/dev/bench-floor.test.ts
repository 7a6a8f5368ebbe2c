import { describe, expect, it } from 'vitest';
import { bridgeStats, jsonHeaders, postJson } from '../../bench/lib/client.ts';
import { FLOOR_NAME, GATEWAY_NAME, routeTo } from '../../bench/lib/floor.ts';
import { startStack } from '../../bench/lib/stack.ts';

// The floor Worker of #18 runs under the gateway's own `wrangler dev`, reached on the user workerd's
// entry socket; the bridge can be restarted with a latency.
describe('bench stack with the floor Worker (bench/floor, bench/lib/floor.ts)', () => {
  it('serves the floor and the gateway from one workerd entry, and restarts the bridge with a latency', async () => {
    const stack = await startStack({ floor: true });
    try {
      const entry = stack.workerEntryUrl as string;
      expect(entry).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(entry).not.toBe(stack.gatewayUrl);

      const chat = { model: 'gpt-6-luna', messages: [{ role: 'user', content: 'hello floor' }] };
      const floor = await fetch(`${entry}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...jsonHeaders('sim-floor-test'), ...routeTo(FLOOR_NAME) },
        body: JSON.stringify(chat),
      });
      expect(floor.status).toBe(200);
      expect(await floor.json()).toMatchObject({ object: 'chat.completion', model: 'gpt-6-luna' });
      const simStats = (await (
        await fetch(`${stack.simulatorUrl}/_sim/stats?key=sim-floor-test`)
      ).json()) as {
        requests: Record<string, number>;
      };
      expect(simStats.requests['/v1/chat/completions']).toBe(1);

      const key = await stack.createKey();
      const before = await bridgeStats(stack);
      const body = { intent: 'wool socks for a cold hike' };
      const gateway = await postJson(`${entry}/v1/opportunities`, key, body, routeTo(GATEWAY_NAME));
      expect(gateway.status).toBe(200);
      expect((await bridgeStats(stack)).requests).toBeGreaterThan(before.requests);

      await stack.stopBridge();
      await stack.startBridge({ latencyMs: 200 });
      const t0 = performance.now();
      const res = await fetch(stack.bridgeUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.bridgeToken}` },
        body: JSON.stringify(['ping']),
      });
      expect(await res.json()).toEqual({ result: 'PONG' });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    } finally {
      await stack.stop();
    }
  }, 90_000);
});
