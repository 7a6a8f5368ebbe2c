/**
 * `npm run bench`: starts the whole local stack (redis-server, the Upstash bridge, the OpenAI
 * simulator, `wrangler dev`) and the Portkey gateway, measures, and writes bench/RESULTS.md and
 * bench/RESULTS.json. Budget: about 8 minutes on a 2-core machine.
 *
 * `node bench/run.ts --quick` runs every phase with tiny loads (to check the harness) and writes its
 * report to the system's temp directory instead.
 */
import { writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBatching } from './batching.ts';
import { benchBundle } from './bundle.ts';
import { benchCostReplay, type ReplayOptions } from './cost-replay.ts';
import { withDrillsSection } from './drills/report.ts';
import { describeMachine } from './lib/machine.ts';
import { withMemorySection } from './lib/memory-report.ts';
import { withModerationSection } from './lib/moderation-report.ts';
import { type RunningPortkey, startPortkey } from './lib/portkey.ts';
import { REPO_ROOT } from './lib/processes.ts';
import { type BenchResults, renderReport } from './lib/report.ts';
import { type Stack, startStack } from './lib/stack.ts';
import { benchOverhead, type OverheadOptions } from './overhead.ts';
import { benchRoundTrips } from './round-trips.ts';

const quick = process.argv.includes('--quick');
const OVERHEAD: OverheadOptions = quick
  ? { connections: [1, 10, 50], durationSeconds: 1, warmupSeconds: 0 }
  : { connections: [1, 10, 50], durationSeconds: 6, warmupSeconds: 2 };
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
const outDir = quick ? tmpdir() : join(REPO_ROOT, 'bench');

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const started = performance.now();
const results: BenchResults = {
  date: new Date().toISOString(),
  command: quick ? 'node bench/run.ts --quick' : 'npm run bench',
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
  results.bundle = await phase('bundle', benchBundle);
  stack = await phase('start the stack', () => startStack());
  portkey = await phase('start Portkey', startPortkey);
  if (stack) {
    const s = stack;
    // Single requests on a quiet stack first: the counters are global.
    results.roundTrips = await phase('round trips', () => benchRoundTrips(s));
    results.batching = await phase('batching', () => benchBatching(s));
    if (portkey) {
      const p = portkey;
      results.overhead = await phase('overhead and Portkey', () => benchOverhead(s, p, OVERHEAD, log));
    }
    results.replay = await phase('cost replay', () => benchCostReplay(s, REPLAY, log));
  }
} finally {
  await phase('stop', shutdown);
}
results.totalSeconds = (performance.now() - started) / 1000;
results.loadAverageAtEnd = Math.round((loadavg()[0] ?? 0) * 100) / 100;
writeFileSync(
  join(outDir, quick ? 'bench-quick.json' : 'RESULTS.json'),
  `${JSON.stringify(results, null, 2)}\n`,
);
const report = join(outDir, quick ? 'bench-quick.md' : 'RESULTS.md');
// The drills (npm run drill), the memory figures (npm run bench:memory) and the moderation corpora
// (npm run bench:moderation) keep their own sections.
writeFileSync(report, withDrillsSection(withMemorySection(withModerationSection(renderReport(results)))));
log(`wrote ${report} in ${Math.round(results.totalSeconds)} s`);
process.exit(results.errors.length ? 1 : 0);
