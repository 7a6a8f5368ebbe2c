/**
 * `npm run bench`: starts the whole local stack (redis-server, the Upstash bridge, the OpenAI
 * simulator, `wrangler dev`) and the Portkey gateway, measures, and writes bench/RESULTS.md and
 * bench/RESULTS.json. Budget: about 8 minutes on a 2-core machine.
 *
 * `node bench/run.ts --quick` runs every phase with tiny loads (to check the harness) and writes its
 * report to the system's temp directory instead.
 *
 * `--only=cpu,round-trips` runs some phases (bundle, round-trips, batching, overhead, cpu, replay) and
 * writes to the temp directory too, unless `--merge`: then the phases measured replace theirs in
 * bench/RESULTS.json and RESULTS.md is rendered again. `BENCH_BRIDGE_LATENCIES=0,20` (the default)
 * picks the bridge latencies of the CPU phase.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchBatching } from './batching.ts';
import { benchBundle } from './bundle.ts';
import { benchCostReplay, type ReplayOptions } from './cost-replay.ts';
import { benchCpu, type CpuOptions } from './cpu.ts';
import { withDrillsSection } from './drills/report.ts';
import { describeMachine } from './lib/machine.ts';
import { withMemorySection } from './lib/memory-report.ts';
import { withModerationSection } from './lib/moderation-report.ts';
import { type RunningPortkey, startPortkey } from './lib/portkey.ts';
import { REPO_ROOT } from './lib/processes.ts';
import { type BenchResults, renderReport } from './lib/report.ts';
import { type Stack, startStack } from './lib/stack.ts';
import { benchOverhead, type OverheadOptions } from './overhead.ts';
import { benchPromptCache } from './prompt-cache.ts';
import { benchRoundTrips } from './round-trips.ts';

const PHASES = ['bundle', 'round-trips', 'prompt-cache', 'batching', 'overhead', 'cpu', 'replay'];
const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, only: { type: 'string' }, merge: { type: 'boolean' } },
});
const quick = args.quick ?? false;
const only = args.only?.split(',') ?? PHASES;
const latencies = (process.env.BENCH_BRIDGE_LATENCIES ?? '0,20').split(',').map(Number);
if (only.some((p) => !PHASES.includes(p)) || latencies.some((ms) => !(ms >= 0)) || (args.merge && quick)) {
  console.error(`usage: node bench/run.ts [--quick] [--only=${PHASES.join(',')} [--merge]]`);
  process.exit(2);
}
const partial = only.length < PHASES.length;
const wanted = (name: string) => only.includes(name);
// Overhead trimmed from 6 + 2 s to 5 + 1 s per measurement to make room for the CPU phase (#18).
const OVERHEAD: OverheadOptions = quick
  ? { connections: [1, 10, 50], durationSeconds: 1, warmupSeconds: 0 }
  : { connections: [1, 10, 50], durationSeconds: 5, warmupSeconds: 1 };
const CPU: CpuOptions = quick
  ? {
      connections: 50,
      durationSeconds: 1,
      warmupSeconds: 0,
      bridgeLatenciesMs: latencies,
      settleMs: 300,
      rounds: 1,
    }
  : {
      // Eight 2 s rounds rather than a few of 4 s: this machine's speed drifts over seconds, and finer,
      // more turns give every path the same share of it (the floor alone swung 0.66–1.07 ms between runs,
      // one path 0.77–1.73 ms between rounds of one run). 6 s of warm-up per path, not 2: after 2 s the
      // gateway's first rounds still cost up to twice its later ones (its isolate's code and heap settle
      // under load for tens of seconds), and an isolate in production serves for minutes.
      connections: 50,
      durationSeconds: 2,
      warmupSeconds: 6,
      bridgeLatenciesMs: latencies,
      settleMs: 1_000,
      rounds: 8,
    };
const REPLAY: ReplayOptions = {
  requests: quick ? 300 : 5_000,
  timeCapSeconds: quick ? 15 : 150,
  noCacheTimeCapSeconds: quick ? 10 : 40,
  noCacheSample: quick ? 30 : 300,
  concurrency: 32,
  burstSize: 500,
  seed: 20261127,
  zipfExponent: 1.1,
};
const scratchRun = quick || (partial && !args.merge);
const outDir = scratchRun ? tmpdir() : join(REPO_ROOT, 'bench');

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const started = performance.now();
const results: BenchResults = {
  date: new Date().toISOString(),
  command: ['node bench/run.ts', ...process.argv.slice(2)]
    .join(' ')
    .replace(/^node bench\/run.ts$/, 'npm run bench'),
  machine: describeMachine(),
  totalSeconds: 0,
  loadAverageAtEnd: 0,
  phaseSeconds: {},
  errors: [],
};

/** Runs one phase; a failure is reported and the next phase still runs. */
async function phase<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  const t0 = performance.now();
  log(`${name}…`);
  try {
    return await run();
  } catch (error) {
    log(`${name} failed: ${(error as Error).stack ?? error}`);
    results.errors.push({ phase: name, message: (error as Error).message.split('\n')[0] ?? '' });
    return undefined;
  } finally {
    results.phaseSeconds[name] = (performance.now() - t0) / 1000;
  }
}

let stack: Stack | undefined;
let portkey: RunningPortkey | undefined;
const shutdown = async () => {
  await Promise.allSettled([stack?.stop(), portkey?.stop()]);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void shutdown().then(() => process.exit(130)));
}

try {
  if (wanted('bundle')) results.bundle = await phase('bundle', benchBundle);
  stack = await phase('start the stack', () => startStack({ floor: true }));
  if (wanted('overhead')) portkey = await phase('start Portkey', startPortkey);
  if (stack) {
    const s = stack;
    // Single requests on a quiet stack first: the counters are global.
    if (wanted('round-trips')) results.roundTrips = await phase('round trips', () => benchRoundTrips(s));
    if (wanted('prompt-cache'))
      results.promptCache = await phase('prompt cache', () => benchPromptCache(s, quick ? 10 : 100));
    if (wanted('batching')) results.batching = await phase('batching', () => benchBatching(s));
    if (portkey) {
      const p = portkey;
      results.overhead = await phase('overhead and Portkey', () => benchOverhead(s, p, OVERHEAD, log));
    }
    if (wanted('cpu')) results.cpu = await phase('CPU per request', () => benchCpu(s, CPU, log));
    if (wanted('replay')) results.replay = await phase('cost replay', () => benchCostReplay(s, REPLAY, log));
  }
} finally {
  await phase('stop', shutdown);
}
results.totalSeconds = (performance.now() - started) / 1000;
results.loadAverageAtEnd = Math.round((loadavg()[0] ?? 0) * 100) / 100;
const written = args.merge ? mergeInto(join(outDir, 'RESULTS.json'), results) : results;
writeFileSync(
  join(outDir, scratchRun ? 'bench-quick.json' : 'RESULTS.json'),
  `${JSON.stringify(written, null, 2)}\n`,
);
const report = join(outDir, scratchRun ? 'bench-quick.md' : 'RESULTS.md');
// The drills (npm run drill), the memory figures (npm run bench:memory) and the moderation corpora
// (npm run bench:moderation) keep their own sections.
writeFileSync(report, withDrillsSection(withMemorySection(withModerationSection(renderReport(written)))));
log(`wrote ${report} in ${Math.round(results.totalSeconds)} s`);
process.exit(results.errors.length ? 1 : 0);

/** The committed results with this run's phases in place of theirs (`--merge`). */
function mergeInto(path: string, run: BenchResults): BenchResults {
  const old = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  const measured = (Object.keys(run) as (keyof BenchResults)[]).filter(
    (k) =>
      !['date', 'command', 'machine', 'totalSeconds', 'loadAverageAtEnd', 'phaseSeconds', 'errors'].includes(
        k,
      ),
  );
  const merged: BenchResults = { ...old, ...Object.fromEntries(measured.map((k) => [k, run[k]])) };
  // Plain text: the report quotes the whole of it as code.
  merged.command = `${old.command}, then ${run.command} on ${run.date}`;
  merged.phaseSeconds = { ...old.phaseSeconds, ...run.phaseSeconds };
  merged.errors = [...old.errors.filter((e) => !(e.phase in run.phaseSeconds)), ...run.errors];
  return merged;
}
