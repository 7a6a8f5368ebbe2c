import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('npm run dev (dev/start.ts)', () => {
  it('serves /health with no Redis and no key configured, then stops everything it started', async () => {
    const [port, bridgePort, simPort] = [await freePort(), await freePort(), await freePort()];
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: String(port),
      BRIDGE_PORT: String(bridgePort),
      SIM_PORT: String(simPort),
      BRIDGE_BACKEND: 'embedded',
      // A developer's own .dev.vars (with a real key, say) must not leak into this test.
      DEV_VARS_FILE: '/nonexistent/.dev.vars',
    };
    for (const name of [
      'OPENAI_API_KEY',
      'UPSTASH_REDIS_REST_URL',
      'UPSTASH_REDIS_REST_TOKEN',
      'REDIS_URL',
      'ADMIN_API_KEY',
    ]) {
      delete env[name];
    }
    const child = spawn(process.execPath, ['dev/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      await expect
        .poll(() => output, { timeout: 60_000, interval: 250 })
        .toContain(`commerce-ai-gateway is ready at http://127.0.0.1:${port}`);
      expect(output).toContain('EMBEDDED in-memory store');
      // A generated admin key is printed, and it creates a working client key.
      await expect.poll(() => output, { timeout: 10_000 }).toMatch(/create a client key/);
      const adminKey = /admin key \(generated[^:]*: (\S+)/.exec(output)?.[1];
      expect(adminKey).toMatch(/^dev-admin-/);
      const created = await fetch(`http://127.0.0.1:${port}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'local' }),
      });
      expect(created.status).toBe(201);
      const { key } = (await created.json()) as { key: string };
      const budget = await fetch(`http://127.0.0.1:${port}/v1/budget`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(budget.status).toBe(200);
      const publicHealth = await fetch(`http://127.0.0.1:${port}/health`);
      expect(await publicHealth.json()).toEqual({ status: 'ok', version: expect.any(String) });
      const res = await fetch(`http://127.0.0.1:${port}/health`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ok',
        store: { ok: true, mode: 'local' },
        provider: { base_url: `http://127.0.0.1:${simPort}/v1`, mode: 'local' },
      });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    // Everything it started is gone: the bridge and simulator ports are free again.
    await expect(fetch(`http://127.0.0.1:${bridgePort}/`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${simPort}/v1/models`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 90_000);
});
