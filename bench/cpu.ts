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
}

export interface PathCost {
  name: string;
  load: LoadResult;
  /** Absent when the run served nothing. */
  perRequest?: PerRequest;
  totals: { cpuMs: number; roundTrips: number; commands: number };
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
    const paths: PathCost[] = [];
    for (const { name, target } of targets) {
      const cost = await measurePath(
        stack,
        target,
        workerd.map((p) => p.pid),
        options,
      );
      const per = cost.perRequest;
      log(
        `cpu ${name} @ bridge ${bridgeLatencyMs} ms ×${options.connections}: ${cost.load.rps} req/s, ` +
          `p50 ${cost.load.latencyMs.p50} ms, p99 ${cost.load.latencyMs.p99} ms, ` +
          `${per ? `${per.cpuMs} CPU ms, ${per.roundTrips} round trips, ${per.commands} commands per request` : 'nothing served'}, ` +
          `failed ${cost.load.non2xx + cost.load.errors}`,
      );
      paths.push({ name, ...cost });
    }
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

async function measurePath(stack: Stack, target: LoadTarget, pids: number[], options: CpuOptions) {
  const load = { connections: options.connections };
  if (options.warmupSeconds) await measure(target, { ...load, durationSeconds: options.warmupSeconds });
  await sleep(options.settleMs);
  const bridgeBefore: BridgeCounters = await bridgeStats(stack);
  const cpuBefore = cpuMsByPid(pids);
  const result = await measure(target, { ...load, durationSeconds: options.durationSeconds });
  await sleep(options.settleMs);
  const cpuMs = cpuMsBetween(cpuBefore, cpuMsByPid(pids));
  const bridgeAfter: BridgeCounters = await bridgeStats(stack);
  const totals = {
    cpuMs: Math.round(cpuMs),
    roundTrips: bridgeAfter.requests - bridgeBefore.requests,
    commands: bridgeAfter.commands - bridgeBefore.commands,
  };
  if (result.requests === 0) return { load: result, totals };
  return {
    load: result,
    perRequest: perRequest({ before: bridgeBefore, after: bridgeAfter }, cpuMs, result.requests),
    totals,
  };
}
