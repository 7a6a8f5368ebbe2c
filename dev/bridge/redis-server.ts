import { accessSync, constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawnWatched } from './watchdog.ts';

export interface RedisServerOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default console.error */
  log?: (line: string) => void;
}

export interface RunningRedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;

/** The path of `redis-server` on PATH, if any. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, process.platform === 'win32' ? 'redis-server.exe' : 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Spawns a throw-away `redis-server` on 127.0.0.1 without persistence and resolves once it answers PING.
 * `stop()` kills it and resolves once it is gone; it also dies with this process, however that ends
 * (see `watchdog.ts`).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RunningRedisServer> {
  const binary = findRedisServer();
  if (!binary) throw new Error('redis-server was not found on PATH');
  const log = options.log ?? console.error;
  // A free port can be taken between our probe and redis binding it; retry a few times then.
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await findFreePort());
    try {
      return await spawnOn(binary, port, log);
    } catch (error) {
      if (options.port || attempt >= 3) throw error;
    }
  }
}

async function spawnOn(
  binary: string,
  port: number,
  log: (line: string) => void,
): Promise<RunningRedisServer> {
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    tmpdir(),
  ];
  let output = '';
  const server = await spawnWatched(binary, args, (chunk) => {
    output = (output + chunk).slice(-4000);
  });
  try {
    await waitUntilReady(port, server.exited);
  } catch (error) {
    await server.stop(0);
    throw new Error(`redis-server on port ${port} did not start: ${(error as Error).message}\n${output}`);
  }
  log(`bridge: started redis-server (pid ${server.pid}) on ${HOST}:${port}`);
  return { url: `redis://${HOST}:${port}`, port, stop: () => server.stop(STOP_TIMEOUT_MS) };
}

async function waitUntilReady(port: number, exited: Promise<void>): Promise<void> {
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (dead) throw new Error('it exited');
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no PONG within ${READY_TIMEOUT_MS} ms`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let received = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (received.includes('\r\n')) done(received.startsWith('+PONG'));
    });
  });
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
