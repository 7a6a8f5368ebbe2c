import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type BridgeOptions, type RunningBridge, startBridge } from '../../../dev/bridge/index.ts';

/**
 * The backends every conformance suite runs against: a real Redis (REDIS_URL, else a spawned
 * redis-server; the suite FAILS when neither exists) and the embedded store.
 */
export const BACKENDS: { name: string; options: Omit<BridgeOptions, 'token'> }[] = [
  {
    name: 'real Redis',
    options: { backend: 'redis', ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}) },
  },
  { name: 'embedded store', options: { backend: 'embedded' } },
];

/**
 * Starts a bridge for the enclosing describe block and stops it after. A bridge that cannot start
 * fails every test of the block rather than skipping them (as a throwing beforeAll would).
 * @returns a getter for the running bridge, valid inside tests.
 */
export function useBridge(options: BridgeOptions): () => RunningBridge {
  let bridge: RunningBridge | undefined;
  let startError: unknown;
  beforeAll(async () => {
    try {
      bridge = await startBridge(options);
    } catch (error) {
      startError = error;
    }
  });
  beforeEach(() => {
    if (startError) throw startError;
  });
  afterAll(async () => {
    await bridge?.close();
  });
  return () => bridge as RunningBridge;
}
