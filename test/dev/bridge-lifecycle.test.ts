import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findRedisServer, startBridge, startRedisServer } from '../../dev/bridge/index.ts';

// Starting and stopping: spawned redis-server processes must never outlive close()/stop() or the CLI.
const MAIN = fileURLToPath(new URL('../../dev/bridge/main.ts', import.meta.url));
const INDEX = new URL('../../dev/bridge/index.ts', import.meta.url).href;

/** Whether something answers PING on 127.0.0.1:port. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

const portOf = (url: string | undefined) => Number(new URL(url ?? '').port);

describe('redis-server management', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('finds redis-server on PATH, spawns it on a free port and leaves nothing running after stop()', async () => {
    const binary = findRedisServer();
    if (!binary) {
      // Documented behaviour without the binary: a clear error, never a silent fallback.
      await expect(startRedisServer({ log: () => {} })).rejects.toThrow(/redis-server was not found on PATH/);
      return;
    }
    expect(binary).toMatch(/redis-server$/);
    const server = await startRedisServer({ log: () => {} });
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await answersPing(server.port)).toBe(true);
    await server.stop();
    await server.stop();
    expect(await answersPing(server.port)).toBe(false);
  });

  it('takes its redis-server down when the parent process is SIGKILLed (no exit handlers run)', async () => {
    if (!findRedisServer()) return expect(startRedisServer({ log: () => {} })).rejects.toThrow(/not found/);
    const script = `const { startRedisServer } = await import(${JSON.stringify(INDEX)});
      const server = await startRedisServer({ log: () => {} });
      console.log(server.port);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      parent.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      parent.once('exit', (code) => reject(new Error(`parent exited with ${code}`)));
    });
    expect(await answersPing(port)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 3000;
    while ((await answersPing(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await answersPing(port)).toBe(false);
  });

  it("fails loudly for backend 'redis' when there is neither REDIS_URL nor redis-server", async () => {
    process.env.PATH = '/nonexistent';
    expect(findRedisServer()).toBeUndefined();
    await expect(startBridge({ token: 't', backend: 'redis', log: () => {} })).rejects.toThrow(
      /needs redisUrl \(REDIS_URL\) or redis-server on PATH/,
    );
  });

  it("falls back to the embedded store for backend 'auto' when no Redis is available", async () => {
    process.env.PATH = '/nonexistent';
    const logs: string[] = [];
    const bridge = await startBridge({ token: 't', log: (line) => logs.push(line) });
    try {
      expect(bridge.mode).toBe('embedded');
      expect(logs.join('\n')).toMatch(/WARNING/);
    } finally {
      await bridge.close();
    }
  });

  it('rejects an unreachable REDIS_URL instead of starting', async () => {
    // Nothing listens on port 1 (privileged), so the connection is refused.
    await expect(startBridge({ token: 't', redisUrl: 'redis://127.0.0.1:1', log: () => {} })).rejects.toThrow(
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
    );
  });

  it('kills the redis-server it spawned on close()', async () => {
    // No redisUrl here on purpose: this is about the spawned server, whatever REDIS_URL says.
    const starting = startBridge({ token: 't', backend: 'redis', log: () => {} });
    if (!findRedisServer()) {
      await expect(starting).rejects.toThrow(/needs redisUrl/);
      return;
    }
    const bridge = await starting;
    expect(bridge.mode).toBe('redis-server');
    const port = portOf(bridge.redisUrl);
    expect(await answersPing(port)).toBe(true);
    await bridge.close();
    await bridge.close();
    await expect(fetch(bridge.url)).rejects.toThrow();
    expect(await answersPing(port)).toBe(false);
  });
});

describe('CLI (node dev/bridge/main.ts)', () => {
  function startCli(env: Record<string, string>): { child: ChildProcess; line: Promise<string> } {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, BRIDGE_PORT: '0', UPSTASH_REDIS_REST_TOKEN: 'cli-token', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      child.once('exit', (code) => reject(new Error(`CLI exited with ${code} before printing`)));
    });
    return { child, line };
  }
  const exitOf = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints its URL and mode, serves, and on %s exits 0 leaving no redis-server',
    async (signal) => {
      const { child, line } = startCli({ BRIDGE_BACKEND: 'redis' });
      try {
        const printed = await line;
        const match =
          /listening on (http:\/\/127\.0\.0\.1:\d+) \(mode: (redis-server|redis-url), (redis:\/\/\S+)\)/.exec(
            printed,
          );
        expect(match, printed).not.toBeNull();
        const [, url = '', , redisUrl] = match ?? [];
        const res = await fetch(`${url}/`, {
          method: 'POST',
          headers: { authorization: 'Bearer cli-token' },
          body: '["ping"]',
        });
        expect(await res.json()).toEqual({ result: 'PONG' });
        child.kill(signal);
        expect(await exitOf(child)).toBe(0);
        if (match?.[2] === 'redis-server') expect(await answersPing(portOf(redisUrl))).toBe(false);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );

  it('exits 2 on an unknown BRIDGE_BACKEND', async () => {
    const { child, line } = startCli({ BRIDGE_BACKEND: 'postgres' });
    line.catch(() => {});
    expect(await exitOf(child)).toBe(2);
  });
});
