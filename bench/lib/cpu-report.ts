/** The "CPU per request" section of bench/RESULTS.md and its two targets from #18. */
import type { CpuResult, CpuRun } from '../cpu.ts';
import { withinFactor } from './accounting.ts';

/** The targets: a path's CPU per request within a factor of the floor Worker's, at each bridge latency. */
const TARGETS = [
  { path: 'hit', label: 'cache-hit', factor: 1.2 },
  { path: 'proxy', label: 'proxy', factor: 2 },
];

/** One row per target and bridge latency: [target, measured, met]. */
export function cpuTargetRows(r: CpuResult): { target: string; measured: string; met: boolean }[] {
  return r.runs.flatMap((run) => {
    const floor = cpuOf(run, 'floor');
    return TARGETS.flatMap(({ path, label, factor }) => {
      const target = `${label} CPU per request ≤ ${factor}× the floor Worker's (bridge ${run.bridgeLatencyMs} ms)`;
      const ours = cpuOf(run, path);
      if (ours === undefined || floor === undefined) {
        return [
          {
            target,
            measured: `not measured${path === 'proxy' && r.proxySkipped ? `: ${r.proxySkipped}` : ''}`,
            met: false,
          },
        ];
      }
      const { ratio, met } = withinFactor(ours, floor, factor);
      const rounds = roundRatios(run, path);
      const spread = rounds ? `; round by round ×${rounds.median} [${rounds.min}–${rounds.max}]` : '';
      return [{ target, measured: `${ours} ms vs ${floor} ms (×${ratio}${spread})`, met }];
    });
  });
}

/**
 * Each round's CPU against the floor's round just before it (the machine's speed drifts over tens of
 * seconds, so neighbours compare best): the median and the extremes, to show how far one run can be
 * trusted. Undefined without rounds.
 */
export function roundRatios(
  run: CpuRun,
  path: string,
): { median: number; min: number; max: number } | undefined {
  const ours = run.paths.find((p) => p.name === path)?.roundsCpuMs;
  const floor = run.paths.find((p) => p.name === 'floor')?.roundsCpuMs;
  if (!ours?.length || ours.length !== floor?.length) return undefined;
  const ratios = ours.map((ms, i) => ms / (floor[i] as number)).sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  const median =
    ratios.length % 2 ? (ratios[mid] as number) : ((ratios[mid - 1] as number) + (ratios[mid] as number)) / 2;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return { median: r2(median), min: r2(ratios[0] as number), max: r2(ratios.at(-1) as number) };
}

function cpuOf(run: CpuRun, path: string): number | undefined {
  return run.paths.find((p) => p.name === path)?.perRequest?.cpuMs;
}

export function cpuSection(r: CpuResult): string[] {
  const o = r.options;
  const rows = r.runs.flatMap((run) =>
    run.paths.map((p) => [
      p.name,
      `${run.bridgeLatencyMs} ms`,
      p.load.rps,
      `${p.load.latencyMs.p50.toFixed(1)} ms`,
      `${p.load.latencyMs.p99.toFixed(1)} ms`,
      p.perRequest ? p.perRequest.cpuMs.toFixed(3) : '—',
      p.perRequest ? p.perRequest.roundTrips : '—',
      p.perRequest ? p.perRequest.commands : '—',
      p.load.requests,
      p.load.non2xx + p.load.errors,
      (p.roundsCpuMs ?? []).map((ms) => ms.toFixed(3)).join(' / ') || '—',
    ]),
  );
  return [
    '## CPU per request, the floor Worker and Redis round trips',
    '',
    `autocannon at ${o.connections} connections, ${o.durationSeconds} s per measurement after a ${o.warmupSeconds} s warm-up, one path at`,
    `a time, every path ${o.rounds} times: the floor, the hit and the proxy in turn (floor, hit, proxy, floor, …), then`,
    'the miss alone (the garbage and the background work a miss leaves would fall on the next round), pooled: CPU, round trips and',
    'commands summed over the rounds and divided by every response (one run of a path swings by ±20 % on this',
    'shared machine; see the load average above). Req/s and latencies are those of the round with the median',
    "CPU per request; responses are all the rounds'; the last column gives each round on its own.",
    "`wrangler dev`'s local observability is off (`X_LOCAL_OBSERVABILITY=false`): it traces every request into a",
    'collector Worker in the same workerd, which production does not run in the isolate, and which added',
    'about 0.7 ms to every request of both Workers. The floor Worker (`bench/floor/worker.ts`) runs',
    "under the same `wrangler dev` as the gateway (a second `-c` config) and every request goes to that workerd's",
    "own entry socket (`MF-Route-Override` picks the Worker), leaving out wrangler's dev-only proxy, which",
    'production does not have either. **CPU ms per request** = utime + stime of',
    `every workerd process of that \`wrangler dev\` (${r.workerdProcesses}), from \`/proc/<pid>/stat\` before and after the`,
    `measurement (${o.settleMs} ms after the last response, so work in \`waitUntil\` counts), divided by the responses.`,
    '**Round trips** = Upstash REST requests the bridge received per response; **commands** = the commands',
    'inside them (a pipeline of 3 counts 3, a Lua script its one EVALSHA). The bridge latency is',
    "`BRIDGE_LATENCY_MS`: one delay per REST request; 20 ms stands for an Upstash database in the Worker's region.",
    '',
    ...r.paths.map((p) => `- **${p.name}**: ${p.description}.`),
    ...(r.proxySkipped ? [`- Not measured: ${r.proxySkipped}.`] : []),
    '',
    table(
      [
        'path',
        'bridge',
        'req/s',
        'p50',
        'p99',
        'CPU ms / req',
        'round trips / req',
        'commands / req',
        'responses',
        'failed',
        'CPU ms / req by round',
      ],
      rows,
    ),
    '',
    'Workerd on a developer machine is not the Workers runtime in production, and the load generator, Redis,',
    'the bridge and the simulator share the same cores: read the ratios to the floor, not the absolute times.',
    '',
  ];
}

function table(head: string[], rows: (string | number)[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- |').join('')}`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
