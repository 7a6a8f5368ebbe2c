import type { TestProject } from 'vitest/node';
import { spawnService } from './support/node/spawn-service.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    bridgeUrl: string;
    bridgeToken: string;
    simulatorUrl: string;
  }
}

/**
 * Starts the real parts the Worker tests talk to over HTTP: the Upstash REST bridge in front of a
 * real redis-server (REDIS_URL, or one spawned from PATH; never the embedded store) and the OpenAI
 * simulator. Their addresses reach workerd as bindings through `inject` in vitest.config.ts.
 */
export default async function setup(project: TestProject) {
  const token = `test-${process.pid}`;
  const [bridge, simulator] = await Promise.all([
    spawnService('dev/bridge/main.ts', {
      BRIDGE_PORT: '0',
      BRIDGE_BACKEND: 'redis',
      UPSTASH_REDIS_REST_TOKEN: token,
    }),
    spawnService('dev/openai-sim/main.ts', { SIM_PORT: '0', SIM_LATENCY_MS: '0', SIM_FAULTS: '[]' }),
  ]);
  project.provide('bridgeUrl', bridge.url);
  project.provide('bridgeToken', token);
  project.provide('simulatorUrl', simulator.url);
  return async () => {
    await Promise.all([bridge.stop(), simulator.stop()]);
  };
}
