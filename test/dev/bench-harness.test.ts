import { describe, expect, it } from 'vitest';
import { jsonHeaders, postJson } from '../../bench/lib/client.ts';
import { measure } from '../../bench/lib/load.ts';
import { startStack } from '../../bench/lib/stack.ts';
import { isAlive } from '../../dev/bridge/watchdog.ts';

describe('bench harness (bench/lib/stack.ts, bench/lib/load.ts)', () => {
  it('starts the whole stack, measures a cache hit through it, restarts the bridge on its port, and stop() leaves no process', async () => {
    const stack = await startStack();
    let processes: { name: string; pid: number }[] = [];
    // With the admin key, /health reports whether the gateway reaches Redis.
    const health = () =>
      fetch(`${stack.gatewayUrl}/health`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
    try {
      expect((await health()).status).toBe(200);
      expect((await fetch(`${stack.simulatorUrl}/_sim/stats`)).status).toBe(200);
      expect((await fetch(`${stack.bridgeUrl}/_bridge/stats`)).status).toBe(200);
      processes = stack.processes();
      expect(processes.map((p) => p.name)).toEqual(
        expect.arrayContaining(['redis-server', 'bridge', 'simulator', 'dev/start.ts', 'workerd']),
      );

      const key = await stack.createKey();
      const body = { intent: 'waterproof hiking boots for a rainy autumn trip' };
      const url = `${stack.gatewayUrl}/v1/opportunities`;
      expect((await postJson(url, key, body)).status).toBe(200);
      const result = await measure(
        { url, headers: jsonHeaders(key), body: JSON.stringify(body) },
        { connections: 1, durationSeconds: 1 },
      );
      expect(result.requests).toBeGreaterThan(0);
      expect(result.non2xx + result.errors).toBe(0);
      expect(result.rps).toBeGreaterThan(0);
      expect(result.latencyMs.p50).toBeGreaterThan(0);
      expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.p95);
      expect(result.latencyMs.p95).toBeLessThanOrEqual(result.latencyMs.p99);

      // The gateway keeps its Redis URL across a bridge restart.
      await stack.stopBridge();
      await expect(fetch(`${stack.bridgeUrl}/_bridge/stats`)).rejects.toThrow();
      expect((await health()).status).toBe(503);
      await stack.startBridge();
      expect((await health()).status).toBe(200);
      processes = [...processes, ...stack.processes()];
    } finally {
      await stack.stop();
    }
    expect(processes.filter((p) => isAlive(p.pid))).toEqual([]);
    await expect(fetch(`${stack.gatewayUrl}/health`)).rejects.toThrow();
  }, 90_000);
});
