import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A gateway started the way `npm run dev` starts it (dev/start.ts), on free ports. */
export interface DevGateway {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** The admin key dev/start.ts generated for this run. */
  adminKey: string;
  /** The REST bridge and the OpenAI simulator dev/start.ts started for this gateway alone. */
  bridgeUrl: string;
  simulatorUrl: string;
  /** Everything the process printed so far (for a failing test's message). */
  output(): string;
  /** Stops wrangler and everything dev/start.ts started. */
  stop(): Promise<void>;
}

/** A port the OS reports free right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Runs `node dev/start.ts` with no Redis, provider or admin key configured, so it starts the REST
 * bridge (real redis-server from PATH when there is one), the OpenAI simulator and `wrangler dev`, and
 * generates an admin key. A developer's `.dev.vars` and exported settings are kept out.
 * @param env extra environment, e.g. `{ SIM_LATENCY_MS: '20' }`
 */
export async function startDevGateway(
  env: Record<string, string> = {},
  timeoutMs = 90_000,
): Promise<DevGateway> {
  // A port found free can be taken by another process before wrangler binds one of its own sockets
  // (test files start their stacks at the same time): that one failure is met with fresh ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, timeoutMs);
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/.test(String(error))) throw error;
    }
  }
}

async function startOnce(env: Record<string, string>, timeoutMs: number): Promise<DevGateway> {
  const [port, bridgePort, simPort, inspectorPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    BRIDGE_PORT: String(bridgePort),
    SIM_PORT: String(simPort),
    INSPECTOR_PORT: String(inspectorPort),
    DEV_VARS_FILE: '/nonexistent/.dev.vars',
    // As in the workerd tests (vitest.config.ts): a loaded machine must not make a test's gateway pace
    // its requests, nor shed them.
    OVERLOAD_LATENCY_MS: '30000',
    OVERLOAD_BURST: '0',
    // wrangler dev's local observability traces every request through a collector Worker in the same
    // workerd: CPU the tests do not need.
    X_LOCAL_OBSERVABILITY: 'false',
    ...env,
  };
  for (const name of [
    'OPENAI_API_KEY',
    'UPSTASH_REDIS_REST_URL',
    'UPSTASH_REDIS_REST_TOKEN',
    'ADMIN_API_KEY',
  ]) {
    delete childEnv[name];
  }
  const child = spawn(process.execPath, ['dev/start.ts'], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (!/create a client key/.test(output)) {
    // wrangler keeps running after a build error, waiting for a fix: give up at once.
    if (child.exitCode !== null || Date.now() > deadline || /\[ERROR\]/.test(output)) {
      await stopChild(child);
      throw new Error(`dev/start.ts did not become ready at ${url}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const adminKey = /admin key \(generated[^:]*: (\S+)/.exec(output)?.[1];
  if (!adminKey) throw new Error(`no generated admin key in dev/start.ts output:\n${output}`);
  return {
    url,
    adminKey,
    bridgeUrl: `http://127.0.0.1:${bridgePort}`,
    simulatorUrl: `http://127.0.0.1:${simPort}`,
    output: () => output,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
