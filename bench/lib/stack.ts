/**
 * The whole local stack for benchmarks and failure drills: a real `redis-server`, the Upstash REST
 * bridge (dev/bridge) in front of it, the OpenAI simulator (dev/openai-sim), and the gateway under
 * `wrangler dev`, started by dev/start.ts itself (so its secrets and vars reach wrangler exactly as
 * `npm run dev` passes them). Every part is its own process, so a load generator in this process does
 * not share an event loop with what it measures; the bridge can be stopped and restarted on the same
 * port while the gateway keeps its URL.
 *
 * @example
 * const stack = await startStack({ backup: true });
 * const key = await stack.createKey({ rpm: 100_000 });
 * await stack.simConfigure(stack.simKeys.primary, { faults: [{ kind: 'status', status: 503 }] });
 * await stack.stop();
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis as IORedis } from 'ioredis';
import { type RunningRedisServer, startRedisServer } from '../../dev/bridge/index.ts';
import { SETTING_NAMES, Settings } from '../../lib/settings.ts';
import { freePort } from '../../test/support/node/dev-gateway.ts';
import { findWorkerEntry, floorArgs } from './floor.ts';
import { descendants, type NodeChild, reap, startNode } from './processes.ts';

export interface StackOptions {
  /** Gateway settings added to (or replacing) the bench defaults, e.g. `{ LOG_LEVEL: 'info' }`. */
  env?: Record<string, string>;
  /** Configure a backup provider: a second simulator key on the same simulator. @default false */
  backup?: boolean;
  /** Gets every line the gateway prints once it is up (its JSON logs, with `LOG_LEVEL: 'info'`). */
  onGatewayLine?: (line: string) => void;
  /** Run the floor Worker (bench/floor) under the same `wrangler dev`. @default false */
  floor?: boolean;
  /** The bridge's BRIDGE_LATENCY_MS: a delay per Upstash request. @default 0 */
  bridgeLatencyMs?: number;
}

export interface Stack {
  /** e.g. http://127.0.0.1:40123 */
  gatewayUrl: string;
  /** The simulator without /v1. */
  simulatorUrl: string;
  /**
   * The user workerd's own entry socket, which serves the gateway (and with `floor` the floor Worker),
   * picked by bench/lib/floor.ts `routeTo`, without wrangler's dev proxy in front: production has none.
   */
  workerEntryUrl?: string;
  /** The bridge the gateway uses as UPSTASH_REDIS_REST_URL (stable across stopBridge/startBridge). */
  bridgeUrl: string;
  /** The bridge's token (UPSTASH_REDIS_REST_TOKEN). */
  bridgeToken: string;
  /** The real Redis behind the bridge, e.g. redis://127.0.0.1:40124 (it survives a bridge restart). */
  redisUrl: string;
  adminKey: string;
  /** The simulator keys the gateway calls with: OPENAI_API_KEY, and the backup's (with `backup`). */
  simKeys: { primary: string; backup?: string };
  /** How long an isolate holds its requests' metrics before writing them (METRICS_FLUSH_SECONDS). */
  metricsFlushMs: number;
  /** A new client key (through POST /admin/keys); its secret `cag_…`. */
  createKey(opts?: { rpm?: number; daily_budget_usd?: number }): Promise<string>;
  /** POST /_sim/config scoped to one simulator key (see dev/openai-sim/config.ts for the shape). */
  simConfigure(key: string, config: object): Promise<void>;
  /** Stops the bridge process (Redis keeps running and keeps its data). */
  stopBridge(): Promise<void>;
  /** Starts the bridge again on the same port, with another BRIDGE_LATENCY_MS if given. */
  startBridge(options?: { latencyMs?: number }): Promise<void>;
  /** Every process the stack runs right now (wrangler and workerd included). */
  processes(): { name: string; pid: number }[];
  /** The gateway's error log lines among the last 20 kB it printed: what a failed check quotes. */
  gatewayErrors(): string[];
  /** Stops everything; resolves when every process is gone. */
  stop(): Promise<void>;
}

/** High enough that a load test measures the gateway, not its limits. */
const BENCH_DEFAULTS: Record<string, string> = {
  KEY_RATE_LIMIT_RPM: '1000000',
  OPENAI_RATE_LIMIT_RPM: '1000000',
  OPENAI_DAILY_BUDGET_USD: '100000',
  // One JSON line per request through wrangler's stdout would cost a loaded 2-core machine CPU that
  // production (Workers Logs) does not spend in the request; warnings and errors still show.
  LOG_LEVEL: 'warn',
};
const BACKUP_KEY_ENV = 'SIM_BACKUP_API_KEY';

/** Starts redis-server, the bridge, the simulator and the gateway; rejects (cleaning up) if any fails. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const parts: Parts = { bridge: undefined, simulator: undefined, gateway: undefined, redis: undefined };
  const scratch = mkdtempSync(join(tmpdir(), 'cag-stack-'));
  const stop = () => stopParts(parts, scratch);
  try {
    return await assemble(parts, scratch, options, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Parts {
  redis: { server: RunningRedisServer; pid: number } | undefined;
  bridge: NodeChild | undefined;
  simulator: NodeChild | undefined;
  gateway: NodeChild | undefined;
}

async function assemble(parts: Parts, scratch: string, options: StackOptions, stop: () => Promise<void>) {
  const baseEnv = cleanEnv();
  const server = await startRedisServer({ log: () => {} });
  parts.redis = { server, pid: await redisPid(server.url) };
  const bridgeToken = `bench-${randomBytes(12).toString('hex')}`;
  const bridgePort = await freePort();
  const bridgeEnv = {
    ...baseEnv,
    BRIDGE_PORT: String(bridgePort),
    UPSTASH_REDIS_REST_TOKEN: bridgeToken,
    REDIS_URL: server.url,
    BRIDGE_BACKEND: 'redis',
    BRIDGE_LATENCY_MS: String(options.bridgeLatencyMs ?? 0),
  };
  const startBridge = async (latencyMs?: number) => {
    if (latencyMs !== undefined) bridgeEnv.BRIDGE_LATENCY_MS = String(latencyMs);
    parts.bridge = await startNode('dev/bridge/main.ts', bridgeEnv, /Upstash bridge listening on/);
  };
  await startBridge();
  const bridgeUrl = `http://127.0.0.1:${bridgePort}`;

  const simPort = await freePort();
  parts.simulator = await startNode(
    'dev/openai-sim/main.ts',
    { ...baseEnv, SIM_PORT: String(simPort) },
    /OpenAI simulator listening on/,
  );
  const simulatorUrl = `http://127.0.0.1:${simPort}`;

  const simKeys = {
    primary: `sim-bench-primary-${randomBytes(6).toString('hex')}`,
    ...(options.backup ? { backup: `sim-bench-backup-${randomBytes(6).toString('hex')}` } : {}),
  };
  const adminKey = `bench-admin-${randomBytes(18).toString('base64url')}`;
  const settings: Record<string, string> = {
    ...BENCH_DEFAULTS,
    UPSTASH_REDIS_REST_URL: bridgeUrl,
    UPSTASH_REDIS_REST_TOKEN: bridgeToken,
    OPENAI_BASE_URL: `${simulatorUrl}/v1`,
    OPENAI_API_KEY: simKeys.primary,
    ADMIN_API_KEY: adminKey,
    ...(simKeys.backup ? backupSettings(simulatorUrl, simKeys.backup) : {}),
    ...options.env,
  };
  const wranglerArgs = options.floor
    ? floorArgs(scratch, simulatorUrl, settings.LOG_LEVEL ?? BENCH_DEFAULTS.LOG_LEVEL ?? 'warn')
    : [];
  const varsFile = join(scratch, 'dev.vars');
  writeFileSync(varsFile, devVars(settings), { mode: 0o600 });
  // dev/start.ts configures nothing it finds set, so it only runs `wrangler dev` with these settings.
  // A free port can be taken by another process before wrangler binds it (two stacks starting at
  // once): that one failure is met with another port.
  let gatewayPort = 0;
  for (let attempt = 1; ; attempt++) {
    gatewayPort = await freePort();
    try {
      parts.gateway = await startNode(
        'dev/start.ts',
        {
          ...baseEnv,
          PORT: String(gatewayPort),
          DEV_VARS_FILE: varsFile,
          WRANGLER_SEND_METRICS: 'false',
          // wrangler dev traces every request into a local observability collector (a Worker of its
          // own, in the same workerd) unless told not to; production's Workers Logs run outside the
          // isolate. Under 500 connections its tail sessions fail by the thousand.
          X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? 'false',
        },
        /commerce-ai-gateway is ready at/,
        120_000,
        wranglerArgs,
      );
      break;
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test(String(error))) throw error;
    }
  }
  if (options.onGatewayLine) forwardLines(parts.gateway, options.onGatewayLine);
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  // With the admin key, /health also checks that the gateway reaches Redis.
  const health = await fetch(`${gatewayUrl}/health`, { headers: { authorization: `Bearer ${adminKey}` } });
  if (health.status !== 200) {
    throw new Error(`gateway /health answered ${health.status}: ${await health.text()}`);
  }
  const workerd = descendants(parts.gateway.pid).filter((p) => p.name === 'workerd');
  // Found for every stack: the soak loads the gateway there too, past wrangler's dev proxy.
  const workerEntryUrl = await findWorkerEntry(workerd.map((p) => p.pid)).catch((error: unknown) => {
    if (options.floor) throw error;
    return undefined;
  });

  return {
    gatewayUrl,
    simulatorUrl,
    metricsFlushMs: Settings.shape.METRICS_FLUSH_SECONDS.parse(settings.METRICS_FLUSH_SECONDS) * 1000,
    ...(workerEntryUrl ? { workerEntryUrl } : {}),
    bridgeUrl,
    bridgeToken,
    redisUrl: server.url,
    adminKey,
    simKeys,
    createKey: (opts = {}) => createKey(gatewayUrl, adminKey, opts),
    simConfigure: (key, config) => simConfigure(simulatorUrl, key, config),
    async stopBridge() {
      await parts.bridge?.stop();
      parts.bridge = undefined;
    },
    async startBridge(opts = {}) {
      if (!parts.bridge) await startBridge(opts.latencyMs);
    },
    processes: () => listProcesses(parts),
    gatewayErrors: () =>
      (parts.gateway?.output() ?? '').split('\n').filter((line) => line.includes('"level":"error"')),
    stop,
  } satisfies Stack;
}

/** Calls `onLine` with each whole line `child` prints on stdout from now on. */
function forwardLines(child: NodeChild, onLine: (line: string) => void): void {
  let pending = '';
  child.child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}

/** The process environment minus every gateway setting, so a developer's exports cannot leak in. */
function cleanEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of [
    ...SETTING_NAMES,
    'REDIS_URL',
    'BRIDGE_BACKEND',
    'BRIDGE_LATENCY_MS',
    'SIM_LATENCY_MS',
    'SIM_FAULTS',
  ]) {
    delete env[name];
  }
  return env;
}

/** docs/operations.md, "Backups": a backup is any OpenAI-compatible endpoint; here, the same simulator. */
function backupSettings(simulatorUrl: string, key: string): Record<string, string> {
  const spec = {
    name: 'sim-backup',
    base_url: `${simulatorUrl}/v1`,
    api_key_env: BACKUP_KEY_ENV,
    structured_outputs: true,
    models: { text: 'gpt-6-luna', vision: 'gpt-6-luna', embeddings: 'text-embedding-3-large' },
  };
  return { BACKUP_PROVIDERS: JSON.stringify([spec]), [BACKUP_KEY_ENV]: key };
}

/** A dotenv file: single quotes keep JSON values literal. */
function devVars(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([name, value]) => {
      if (value.includes("'") || value.includes('\n')) throw new Error(`${name}: unsupported characters`);
      return `${name}='${value}'\n`;
    })
    .join('');
}

async function redisPid(url: string): Promise<number> {
  const client = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    return Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

/**
 * A load generator's key: no limits of its own unless `opts` names one (the whole gateway budget, every
 * rpm and unit a drill can send), so the drills measure the gateway's limits, not a tenant's.
 */
async function createKey(
  gatewayUrl: string,
  adminKey: string,
  opts: { rpm?: number; daily_budget_usd?: number },
): Promise<string> {
  const unlimited = {
    rpm: 1_000_000,
    upm: 100_000_000,
    ...(opts.daily_budget_usd === undefined ? { budget_share: 1 } : {}),
  };
  const res = await fetch(`${gatewayUrl}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `bench-${randomBytes(4).toString('hex')}`, ...unlimited, ...opts }),
  });
  if (res.status !== 201) throw new Error(`POST /admin/keys answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

async function simConfigure(simulatorUrl: string, key: string, config: object): Promise<void> {
  const res = await fetch(`${simulatorUrl}/_sim/config?key=${encodeURIComponent(key)}`, {
    method: 'POST',
    body: JSON.stringify(config),
  });
  if (res.status !== 200) throw new Error(`POST /_sim/config answered ${res.status}: ${await res.text()}`);
}

function listProcesses(parts: Parts): { name: string; pid: number }[] {
  const list: { name: string; pid: number }[] = [];
  if (parts.redis) list.push({ name: 'redis-server', pid: parts.redis.pid });
  if (parts.bridge) list.push({ name: 'bridge', pid: parts.bridge.pid });
  if (parts.simulator) list.push({ name: 'simulator', pid: parts.simulator.pid });
  if (parts.gateway) {
    list.push({ name: 'dev/start.ts', pid: parts.gateway.pid }, ...descendants(parts.gateway.pid));
  }
  return list;
}

async function stopParts(parts: Parts, scratch: string): Promise<void> {
  if (parts.gateway) {
    // dev/start.ts SIGTERMs wrangler and exits without waiting; wrangler then stops workerd.
    const tree = descendants(parts.gateway.pid).map((p) => p.pid);
    await parts.gateway.stop();
    await reap(tree);
    parts.gateway = undefined;
  }
  await Promise.all([parts.simulator?.stop(), parts.bridge?.stop()]);
  parts.simulator = undefined;
  parts.bridge = undefined;
  await parts.redis?.server.stop();
  parts.redis = undefined;
  rmSync(scratch, { recursive: true, force: true });
}
