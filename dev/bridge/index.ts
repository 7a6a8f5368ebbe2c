import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConnectionLog } from '../connection-log.ts';
import type { Backend } from './backend.ts';
import { createEmbeddedBackend } from './embedded-backend.ts';
import { type BridgeStats, createExecutor } from './executor.ts';
import { createRedisBackend } from './redis-backend.ts';
import {
  findRedisServer,
  type RedisServerOptions,
  type RunningRedisServer,
  startRedisServer,
} from './redis-server.ts';
import { createRequestHandler } from './server.ts';

export type { RedisServerOptions, RunningRedisServer };
export { findRedisServer, startRedisServer };

export type BridgeBackend = 'auto' | 'redis' | 'embedded';

export interface BridgeOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  token: string;
  /** Use this Redis; when unset, 'auto' spawns redis-server from PATH, else falls back to embedded. */
  redisUrl?: string;
  /** 'redis' fails if neither redisUrl nor redis-server is available. @default 'auto' */
  backend?: BridgeBackend;
  /** where log lines go. @default console.error */
  log?: (line: string) => void;
  /** Injected delay per Upstash request (`/`, `/pipeline`, `/multi-exec`), as a network round trip. @default 0 */
  latencyMs?: number;
}

export interface RunningBridge {
  /** e.g. http://127.0.0.1:8079 */
  url: string;
  port: number;
  token: string;
  mode: 'redis-url' | 'redis-server' | 'embedded';
  /** the Redis it talks to (when not embedded) */
  redisUrl?: string;
  stats(): { requests: number; commands: number };
  /** stops the HTTP server, closes connections, kills a spawned redis-server */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

const EMBEDDED_WARNING = [
  '',
  '!!! WARNING: the Upstash bridge is running on its EMBEDDED in-memory store (ioredis-mock).',
  '!!! This is NOT real Redis: data is lost when the process exits, Lua runs on a different VM',
  '!!! (no cjson), values are not binary-safe, and some commands are missing or differ.',
  '!!! Install redis-server or set REDIS_URL for a faithful setup.',
  '',
];

/**
 * Starts an Upstash-REST-compatible HTTP bridge in front of Redis: `redisUrl` if given, else a spawned
 * `redis-server`, else (backend 'auto' or 'embedded') an in-memory store.
 *
 * @example
 * const bridge = await startBridge({ token: 'local-dev-token' });
 * const redis = new Redis({ url: bridge.url, token: bridge.token });
 */
export async function startBridge(options: BridgeOptions): Promise<RunningBridge> {
  const log = options.log ?? console.error;
  const { backend, redisServer } = await openBackend(options, log);
  const stats: BridgeStats = { requests: 0, commands: 0 };
  const handler = createRequestHandler({
    token: options.token,
    executor: createExecutor(backend, stats),
    stats,
    mode: backend.mode,
    connections: createConnectionLog(),
    log,
    latencyMs: options.latencyMs ?? 0,
  });
  const server = createServer((req, res) => void handler(req, res));
  try {
    await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  } catch (error) {
    await backend.close();
    await redisServer?.stop();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  if (!LOOPBACK_HOSTS.has(options.host ?? '127.0.0.1')) {
    log(`bridge: WARNING listening on ${options.host}: /_bridge/* has no auth; keep the bridge local`);
  }

  let closing: Promise<void> | undefined;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    token: options.token,
    mode: backend.mode,
    ...(backend.redisUrl ? { redisUrl: backend.redisUrl } : {}),
    stats: () => ({ ...stats }),
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await backend.close();
        await redisServer?.stop();
      })();
      return closing;
    },
  };
}

async function openBackend(
  options: BridgeOptions,
  log: (line: string) => void,
): Promise<{ backend: Backend; redisServer?: RunningRedisServer }> {
  const choice = options.backend ?? 'auto';
  if (choice === 'embedded') return { backend: embedded(log) };
  if (options.redisUrl) return { backend: await createRedisBackend(options.redisUrl, 'redis-url') };
  if (findRedisServer()) {
    const redisServer = await startRedisServer({ log });
    try {
      return { backend: await createRedisBackend(redisServer.url, 'redis-server'), redisServer };
    } catch (error) {
      await redisServer.stop();
      throw error;
    }
  }
  if (choice === 'redis') {
    throw new Error(
      "bridge backend 'redis' needs redisUrl (REDIS_URL) or redis-server on PATH; found neither",
    );
  }
  return { backend: embedded(log) };
}

function embedded(log: (line: string) => void): Backend {
  for (const line of EMBEDDED_WARNING) log(line);
  return createEmbeddedBackend();
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
