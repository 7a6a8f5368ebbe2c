import type { OverheadResult, TargetRuns } from '../overhead.ts';
import { round } from './load.ts';

/** Latency a target adds to its direct baseline at one connection count. */
export interface Added {
  connections: number;
  p50Ms: number;
  p99Ms: number;
  p50Ratio: number;
  p99Ratio: number;
  rps: number;
}

/** A target's added latency at every connection count (empty for the baselines). */
export function addedLatency(overhead: OverheadResult, target: TargetRuns): Added[] {
  const baseline = overhead.targets.find((t) => t.name === target.baseline);
  if (!baseline) return [];
  return target.runs.flatMap((run) => {
    const base = baseline.runs.find((b) => b.connections === run.connections);
    // A run that completed nothing (a run shorter than one response) has no latency to compare.
    if (!base || run.requests === 0 || base.requests === 0) return [];
    return [
      {
        connections: run.connections,
        p50Ms: round(run.latencyMs.p50 - base.latencyMs.p50, 2),
        p99Ms: round(run.latencyMs.p99 - base.latencyMs.p99, 2),
        p50Ratio: round(run.latencyMs.p50 / base.latencyMs.p50, 2),
        p99Ratio: round(run.latencyMs.p99 / base.latencyMs.p99, 2),
        rps: run.rps,
      },
    ];
  });
}

/** One target against Portkey, per connection count: met when ours is no worse. */
export interface PeerCheck {
  ours: string;
  connections: number;
  p50: { ours: number; portkey: number; met: boolean };
  p99: { ours: number; portkey: number; met: boolean };
  rps: { ours: number; portkey: number; met: boolean };
}

export function peerChecks(overhead: OverheadResult): PeerCheck[] {
  const byName = new Map(overhead.targets.map((t) => [t.name, t]));
  const portkey = byName.get('portkey: chat');
  if (!portkey) return [];
  const theirs = addedLatency(overhead, portkey);
  const checks: PeerCheck[] = [];
  for (const name of ['gateway: cache hit', 'gateway: proxy']) {
    const target = byName.get(name);
    if (!target) continue;
    for (const ours of addedLatency(overhead, target)) {
      const peer = theirs.find((t) => t.connections === ours.connections);
      if (!peer) continue;
      checks.push({
        ours: name,
        connections: ours.connections,
        p50: { ours: ours.p50Ms, portkey: peer.p50Ms, met: ours.p50Ms <= peer.p50Ms },
        p99: { ours: ours.p99Ms, portkey: peer.p99Ms, met: ours.p99Ms <= peer.p99Ms },
        rps: { ours: ours.rps, portkey: peer.rps, met: ours.rps >= peer.rps },
      });
    }
  }
  return checks;
}
