/**
 * CLI: `node dev/openai-sim/main.ts`. Listens on 127.0.0.1:$SIM_PORT (default 8090), prints one line with
 * the URL, logs each request to stderr when SIM_LOG=1, and closes cleanly on SIGINT/SIGTERM. The run config
 * comes from SIM_LATENCY_MS, SIM_FAULTS, SIM_PROFILE and SIM_TIME_SCALE (see index.ts).
 */
import { startSimulator } from './index.ts';

const port = Number(process.env.SIM_PORT ?? 8090);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`SIM_PORT must be a port number, got '${process.env.SIM_PORT}'`);
  process.exit(1);
}

const simulator = await startSimulator({
  port,
  log: process.env.SIM_LOG === '1' ? (line) => console.error(line) : undefined,
});
console.log(`OpenAI simulator listening on ${simulator.url} (base URL ${simulator.url}/v1)`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
