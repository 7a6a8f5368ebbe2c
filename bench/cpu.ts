/**
 * What each request costs the Worker (#18): CPU ms (user + system time of every workerd process of the
 * `wrangler dev`, from /proc), Redis round trips and Upstash commands (the bridge's counters), with
 * throughput and latency, for a cache hit, a miss, the OpenAI-compatible proxy and the floor Worker
 * (bench/floor: fetch the simulator, return the answer), one after the other at the same load, at each
 * bridge latency (0, and 20 ms for an Upstash database in the Worker's region).
 */

import { uniqueWord } from '../dev/unique-word.ts';
import { type BridgeCounters, type PerRequest, perRequest } from './lib/accounting.ts';
import { bridgeStats, jsonHeaders, postJson } from './lib/client.ts';
import { FLOOR_NAME, GATEWAY_NAME, routeTo } from './lib/floor.ts';
import { type LoadResult, type LoadTarget, measure } from './lib/load.ts';
import { cpuMsBetween, cpuMsByPid } from './lib/proc-stat.ts';
import { sleep } from './lib/processes.ts';
import type { Stack } from './lib/stack.ts';

export interface CpuOptions {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** One full set of paths per BRIDGE_LATENCY_MS, in this order. */
  bridgeLatenciesMs: number[];
  /** Wait after the load before the counters are read: metrics and cache writes run in `waitUntil`. */
  settleMs: number;
  /**
   * Every path is measured this many times and pooled: the floor, the hit and the proxy in turn (floor,
   * hit, proxy, floor, …), then the miss alone. A run of one path swings by ±20 % on a shared 2-core
   * machine, and taking the paths in turns spreads a slow spell over all of them instead of one.
   */
  rounds: number;
}

export interface PathCost {
  name: string;
  load: LoadResult;
  /** Pooled over the rounds; absent when they served nothing. */
  perRequest?: PerRequest;
  totals: { cpuMs: number; roundTrips: number; commands: number };
  /** CPU ms per request of each round, in order (absent in results from before rounds). */
  roundsCpuMs?: number[];
}

export interface CpuRun {
  bridgeLatencyMs: number;
  paths: PathCost[];
}

export interface CpuResult {
  options: CpuOptions;
  /** The workerd processes summed (wrangler's proxy and the user workerd). */
  workerdProcesses: number;
  paths: { name: string; description: string }[];
  runs: CpuRun[];
  proxySkipped?: string;
}

const INTENT = 'insulated winter gloves for a ski weekend';
const CHAT = {
  model: 'gpt-6-luna',
  messages: [{ role: 'user', content: 'Suggest three gift ideas for a ski weekend.' }],
};
const PROXY_PATH = '/openai/v1/chat/completions';

export async function benchCpu(
  stack: Stack,
  options: CpuOptions,
  log: (line: string) => void,
): Promise<CpuResult> {
  const entry = stack.workerEntryUrl;
  if (!entry) throw new Error('the stack runs without the floor Worker (startStack({ floor: true }))');
  const key = await stack.createKey();
  const gateway = (extra: Record<string, string> = {}) => ({
    ...jsonHeaders(key, extra),
    ...routeTo(GATEWAY_NAME),
  });
  const primed = await postJson(`${entry}/v1/opportunities`, key, { intent: INTENT }, routeTo(GATEWAY_NAME));
  if (primed.status !== 200) throw new Error(`priming /v1/opportunities: ${primed.status}`);

  const targets: { name: string; description: string; target: LoadTarget }[] = [
    {
      name: 'floor',
      description: 'the floor Worker: POST /v1/chat/completions forwarded to the simulator as it is',
      target: {
        url: `${entry}/v1/chat/completions`,
        headers: { ...jsonHeaders('sim-bench-floor'), ...routeTo(FLOOR_NAME) },
        body: JSON.stringify(CHAT),
      },
    },
    {
      name: 'hit',
      description: 'the same POST /v1/opportunities again and again (a cache hit)',
      target: {
        url: `${entry}/v1/opportunities`,
        headers: gateway(),
        body: JSON.stringify({ intent: INTENT }),
      },
    },
    {
      name: 'miss',
      description: 'POST /v1/opportunities with a new intent each time (moderation and generation)',
      target: {
        url: `${entry}/v1/opportunities`,
        headers: gateway(),
        nextBody: () => JSON.stringify({ intent: `${INTENT}, request ${uniqueWord()}` }),
      },
    },
  ];
  const probe = await postJson(`${entry}${PROXY_PATH}`, key, CHAT, routeTo(GATEWAY_NAME));
  let proxySkipped: string | undefined;
  if (probe.status === 200) {
    targets.push({
      name: 'proxy',
      description: `POST ${PROXY_PATH} (not cached: auth, rate limit, budget, breaker, metrics)`,
      target: { url: `${entry}${PROXY_PATH}`, headers: gateway(), body: JSON.stringify(CHAT) },
    });
  } else {
    proxySkipped = `POST ${PROXY_PATH} answered ${probe.status}`;
  }

  const workerd = stack.processes().filter((p) => p.name === 'workerd');
  const runs: CpuRun[] = [];
  let latency = 0;
  for (const bridgeLatencyMs of options.bridgeLatenciesMs) {
    if (bridgeLatencyMs !== latency) {
      await stack.stopBridge();
      await stack.startBridge({ latencyMs: bridgeLatencyMs });
      latency = bridgeLatencyMs;
    }
    const measured: Measured[][] = targets.map(() => []);
    // The floor and the paths compared with it take turns; the miss comes after, in rounds of its own: a
    // miss leaves garbage and background work (cache writes, settles) behind, which the next path's
    // round would pay for.
    const inTurns = targets.filter(({ name }) => name !== 'miss');
    const apart = targets.filter(({ name }) => name === 'miss');
    for (const block of [inTurns, apart]) {
      for (let round = 0; round < options.rounds; round++) {
        for (const entry of block) {
          const warmup = round === 0 ? options.warmupSeconds : 0;
          measured[targets.indexOf(entry)]?.push(
            await measurePath(
              stack,
              entry.target,
              workerd.map((p) => p.pid),
              { ...options, warmupSeconds: warmup },
            ),
          );
        }
      }
    }
    const paths: PathCost[] = targets.map(({ name }, i) => {
      const cost = pooled(measured[i] ?? []);
      const per = cost.perRequest;
      log(
        `cpu ${name} @ bridge ${bridgeLatencyMs} ms ×${options.connections}: ${cost.load.rps} req/s, ` +
          `p50 ${cost.load.latencyMs.p50} ms, p99 ${cost.load.latencyMs.p99} ms, ` +
          `${per ? `${per.cpuMs} CPU ms (rounds ${(cost.roundsCpuMs ?? []).join(', ')}), ${per.roundTrips} round trips, ${per.commands} commands per request` : 'nothing served'}, ` +
          `failed ${cost.load.non2xx + cost.load.errors}`,
      );
      return { name, ...cost };
    });
    runs.push({ bridgeLatencyMs, paths });
  }
  // Leave the stack as it was given: the phases after this one expect an undelayed bridge.
  if (latency !== 0) {
    await stack.stopBridge();
    await stack.startBridge({ latencyMs: 0 });
  }
  return {
    options,
    workerdProcesses: workerd.length,
    paths: targets.map(({ name, description }) => ({ name, description })),
    runs,
    ...(proxySkipped ? { proxySkipped } : {}),
  };
}

interface Measured {
  load: LoadResult;
  cpuMs: number;
  bridge: { before: BridgeCounters; after: BridgeCounters };
}

async function measurePath(
  stack: Stack,
  target: LoadTarget,
  pids: number[],
  options: CpuOptions,
): Promise<Measured> {
  const load = { connections: options.connections };
  if (options.warmupSeconds) await measure(target, { ...load, durationSeconds: options.warmupSeconds });
  await sleep(options.settleMs);
  const bridgeBefore: BridgeCounters = await bridgeStats(stack);
  const cpuBefore = cpuMsByPid(pids);
  const result = await measure(target, { ...load, durationSeconds: options.durationSeconds });
  await sleep(options.settleMs);
  const cpuMs = cpuMsBetween(cpuBefore, cpuMsByPid(pids));
  const bridgeAfter: BridgeCounters = await bridgeStats(stack);
  return { load: result, cpuMs, bridge: { before: bridgeBefore, after: bridgeAfter } };
}

/**
 * A path's rounds as one measurement: CPU, round trips and commands summed and divided by every request
 * served; the load (throughput, latency) of the round with the median CPU per request.
 */
function pooled(rounds: Measured[]): Omit<PathCost, 'name'> {
  const sum = (f: (m: Measured) => number) => rounds.reduce((total, m) => total + f(m), 0);
  const requests = sum((m) => m.load.requests);
  const cpuMs = sum((m) => m.cpuMs);
  const bridge = {
    before: { requests: 0, commands: 0 },
    after: {
      requests: sum((m) => m.bridge.after.requests - m.bridge.before.requests),
      commands: sum((m) => m.bridge.after.commands - m.bridge.before.commands),
    },
  };
  const roundsCpuMs = rounds.map((m) =>
    m.load.requests ? Math.round((m.cpuMs / m.load.requests) * 1000) / 1000 : 0,
  );
  const byCpu = rounds.map((m, i) => ({ m, per: roundsCpuMs[i] ?? 0 })).sort((a, b) => a.per - b.per);
  const median = (byCpu[Math.floor((byCpu.length - 1) / 2)] as { m: Measured }).m;
  const totals = {
    cpuMs: Math.round(cpuMs),
    roundTrips: bridge.after.requests,
    commands: bridge.after.commands,
  };
  const load = {
    ...median.load,
    requests,
    non2xx: sum((m) => m.load.non2xx),
    errors: sum((m) => m.load.errors),
  };
  if (requests === 0) return { load, totals, roundsCpuMs };
  return { load, perRequest: perRequest(bridge, cpuMs, requests), totals, roundsCpuMs };
}
