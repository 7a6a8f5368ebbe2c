/**
 * What one request costs, from counters read before and after a measurement (#18): CPU ms of the
 * workerd processes, Redis round trips (Upstash REST requests the bridge received) and Upstash
 * commands (each command of a pipeline or transaction; a Lua script is its one EVALSHA).
 */
import { round } from './load.ts';

/** The bridge's counters (`GET /_bridge/stats`). */
export interface BridgeCounters {
  requests: number;
  commands: number;
}

export interface PerRequest {
  cpuMs: number;
  roundTrips: number;
  commands: number;
}

/**
 * Divides what the counters moved by the requests served. A bridge restarted in between (its counters
 * reset) or a run that served nothing has no per-request figure: that is an error, not a zero.
 */
export function perRequest(
  bridge: { before: BridgeCounters; after: BridgeCounters },
  cpuMs: number,
  requests: number,
): PerRequest {
  if (!(requests > 0)) throw new Error('no requests served: nothing to divide by');
  const roundTrips = bridge.after.requests - bridge.before.requests;
  const commands = bridge.after.commands - bridge.before.commands;
  if (roundTrips < 0 || commands < 0) throw new Error('the bridge counters went backwards (restarted?)');
  return {
    cpuMs: round(cpuMs / requests, 3),
    roundTrips: round(roundTrips / requests, 2),
    commands: round(commands / requests, 2),
  };
}

/** `measured ≤ factor × floor`, for the targets "≤ 1.2× the floor Worker's" and "≤ 2×". */
export function withinFactor(
  measured: number,
  floor: number,
  factor: number,
): { ratio: number; met: boolean } {
  const ratio = floor > 0 ? round(measured / floor, 2) : Number.POSITIVE_INFINITY;
  return { ratio, met: measured <= factor * floor };
}
