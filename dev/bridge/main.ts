/**
 * CLI: `node dev/bridge/main.ts`. Environment:
 * - `BRIDGE_PORT` (default 8079)
 * - `UPSTASH_REDIS_REST_TOKEN` (default `local-dev-token`)
 * - `REDIS_URL` (else a spawned redis-server, else the embedded store)
 * - `BRIDGE_BACKEND`: auto | redis | embedded (default auto)
 * - `BRIDGE_LATENCY_MS`: delay added to each Upstash request, e.g. 20 for a database in the
 *   Worker's region (default 0)
 */
import { type BridgeBackend, startBridge } from './index.ts';

const BACKENDS: BridgeBackend[] = ['auto', 'redis', 'embedded'];

const backend = (process.env.BRIDGE_BACKEND || 'auto') as BridgeBackend;
if (!BACKENDS.includes(backend)) {
  console.error(`BRIDGE_BACKEND must be one of ${BACKENDS.join(', ')}; got '${backend}'`);
  process.exit(2);
}
const latencyMs = Number(process.env.BRIDGE_LATENCY_MS || 0);
if (!(Number.isFinite(latencyMs) && latencyMs >= 0)) {
  console.error(
    `BRIDGE_LATENCY_MS must be a number of milliseconds ≥ 0; got '${process.env.BRIDGE_LATENCY_MS}'`,
  );
  process.exit(2);
}

const bridge = await startBridge({
  port: Number(process.env.BRIDGE_PORT || 8079),
  token: process.env.UPSTASH_REDIS_REST_TOKEN || 'local-dev-token',
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  backend,
  latencyMs,
});
const latency = latencyMs ? `, ${latencyMs} ms per request` : '';
console.log(
  `Upstash bridge listening on ${bridge.url} (mode: ${bridge.mode}${bridge.redisUrl ? `, ${bridge.redisUrl}` : ''}${latency})`,
);

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`bridge: ${signal}, shutting down`);
  await bridge.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
