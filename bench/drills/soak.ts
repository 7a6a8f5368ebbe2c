/**
 * Soak: 500 concurrent connections for 60 s on the cache-hit path (`POST /v1/opportunities` with one warm
 * intent), judged by #18's criteria (soak-verdict.ts): the only errors are shed 503s with `Retry-After`,
 * at most 1 % of responses; p99 of the served hits ≤ 3 s; the workerd processes' resident memory grows
 * ≤ 10 % in the second half. VmRSS (`/proc/<pid>/status`) of every process of the stack is sampled
 * before the load, early in it, in the middle and at the end. Then short runs at 300 and at 500
 * connections, twice in turn, check that throughput does not fall as connections rise (reported, not part
 * of the pass).
 */
import { readFileSync } from 'node:fs';
import { type Drill, type DrillStack, gw, readMetrics, sleep } from './harness.ts';
import { hammer } from './soak-load.ts';
import { judgeSoak } from './soak-verdict.ts';

/** A process's resident memory in KiB, or null once it is gone. */
export function rssKib(pid: number): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb);
  } catch {
    return null;
  }
}

type Samples = Record<string, { name: string; pid: number; kib: (number | null)[] }>;

function sampleAll(processes: { name: string; pid: number }[], into: Samples): void {
  for (const { name, pid } of processes) {
    const label = `${name} (${pid})`;
    into[label] ??= { name, pid, kib: [] };
    into[label].kib.push(rssKib(pid));
  }
}

export const soakDrill: Drill = async ({ stack, scale, log }) => {
  const key = await stack.createKey({ rpm: 1_000_000 });
  const body = JSON.stringify({
    intent: `soak warm intent ${Date.now()}: rain jackets for cycling commuters`,
  });
  await gw(stack, '/v1/opportunities', { key, body: JSON.parse(body) });
  const check = await gw(stack, '/v1/opportunities', { key, body: JSON.parse(body) });
  if (check.headers.get('x-cache') !== 'HIT')
    throw new Error(`the warm intent is not a cache hit: ${check.status}`);

  const connections = Math.max(20, Math.round(500 * scale));
  const durationS = Math.max(5, Math.round(60 * scale));
  const processes = stack.processes();
  const samples: Samples = {};
  const metricsBefore = await readRequests(stack);
  sampleAll(processes, samples); // before the load
  log(
    `soak: ${connections} connections for ${durationS} s on the cache-hit path; ${processes.length} processes sampled`,
  );
  const timers = [0.1, 0.5, 0.97].map((at) =>
    setTimeout(() => sampleAll(processes, samples), at * durationS * 1000),
  );
  const run = await hammer(stack, key, body, connections, durationS);
  for (const timer of timers) clearTimeout(timer);
  await sleep(2000); // metrics of the last responses are written after them
  const metricsAfter = await readRequests(stack);

  const memory = Object.values(samples).map(({ name, pid, kib }) => {
    const [before, early, middle, end] = kib;
    return {
      process: `${name} (${pid})`,
      workerd: name === 'workerd',
      before_kib: before,
      early_kib: early,
      middle_kib: middle,
      end_kib: end,
      growth_kib: end != null && middle != null ? end - middle : null,
      growth_from_early_kib: end != null && early != null ? end - early : null,
    };
  });
  const workerd = memory.filter((m) => m.workerd);
  const workerdKib = {
    middle: workerd.reduce((sum, m) => sum + (m.middle_kib ?? 0), 0),
    end: workerd.reduce((sum, m) => sum + (m.end_kib ?? 0), 0),
  };
  const verdict = judgeSoak({
    attempts: run.attempts,
    shed: run.shed,
    errors: run.errors,
    servedP99Ms: run.servedLatencyMs.p99,
    workerdKib,
  });

  // Throughput should not fall as connections rise: short runs at 300 and 500 (scaled), twice in turn
  // so neither count always runs first, each counted after its first 2 s (its connections opening).
  // One 10 s run's served/s swings by ±15 % on this machine, from second to second more.
  const rampS = Math.max(3, Math.round(12 * scale));
  const settleS = Math.min(2, rampS - 1);
  const levels = [300, 500].map((n) => Math.max(10, Math.round(n * scale)));
  const ramp: { connections: number; served_rps: number; rps: number; p99_served_ms: number }[] = [];
  for (const c of [...levels, ...levels]) {
    const r = await hammer(stack, key, body, c, rampS, settleS);
    log(
      `soak ramp: ${c} connections for ${rampS} s: ${r.steadyServedRps} served/s after ${settleS} s, ${r.rps} answered/s`,
    );
    ramp.push({
      connections: c,
      served_rps: r.steadyServedRps,
      rps: r.rps,
      p99_served_ms: r.servedLatencyMs.p99,
    });
  }
  const meanAt = (c: number) => {
    const runs = ramp.filter((r) => r.connections === c);
    return Math.round(runs.reduce((sum, r) => sum + r.served_rps, 0) / runs.length);
  };
  const low = { connections: levels[0] as number, served_rps: meanAt(levels[0] as number) };
  const high = { connections: levels[1] as number, served_rps: meanAt(levels[1] as number) };
  const rampHolds = high.served_rps >= low.served_rps;

  const hits = metricsAfter.hits - metricsBefore.hits;
  const counted = metricsAfter.total - metricsBefore.total;
  const findings = verdict.checks.filter((c) => !c.met).map((c) => `missed: ${c.name} (${c.measured})`);
  if (run.errors) findings.push(`errors other than shed: ${JSON.stringify(run.errorCodes)}`);
  if (!rampHolds) {
    findings.push(
      `throughput fell from ${low.served_rps} served/s at ${low.connections} connections to ${high.served_rps} at ${high.connections}`,
    );
  }
  if (hits < counted) findings.push(`${counted - hits} of ${counted} counted requests were not cache hits`);
  const pct = (n: number) => `${(n * 100).toFixed(2)} %`;
  return {
    name: 'soak',
    title: `Soak: ${connections} connections for ${durationS} s (cache hits)`,
    ok: verdict.ok,
    verdict:
      `${run.attempts} requests, ${run.rps} req/s (${run.servedRps} served/s); shed 503 ${pct(verdict.shedShare)}, ` +
      `other errors ${run.errors}; served p50 ${run.servedLatencyMs.p50} ms, p99 ${run.servedLatencyMs.p99} ms; ` +
      `workerd RSS ${pct(verdict.secondHalfGrowth)} in the second half; ` +
      `throughput ${low.served_rps} served/s at ${low.connections} vs ${high.served_rps} at ${high.connections} (two runs each) ` +
      `(${rampHolds ? 'holds' : 'FALLS'})`,
    lost: { errors_other_than_shed: run.errors, shed_503: run.shed },
    figures: {
      connections,
      duration_s: run.durationS,
      requests: run.attempts,
      rps: run.rps,
      served_rps: run.servedRps,
      shed: run.shed,
      shed_share: verdict.shedShare,
      errors_other_than_shed: run.errors,
      served_latency_ms: run.servedLatencyMs,
      status_codes: run.statusCodes,
      error_codes: run.errorCodes,
      connection_errors: run.connectionErrors,
      timeouts: run.timeouts,
      served_not_hit: run.servedNotHit,
      gateway_counted_requests: counted,
      gateway_cache_hits: hits,
      checks: verdict.checks,
      workerd_rss_kib: workerdKib,
      workerd_second_half_growth: verdict.secondHalfGrowth,
      throughput_ramp: { runs: ramp, duration_s: rampS, settle_s: settleS, holds: rampHolds },
      memory,
    },
    findings,
  };
};

async function readRequests(stack: DrillStack): Promise<{ total: number; hits: number }> {
  const m = (await readMetrics(stack)) as unknown as {
    requests?: { total?: number; cache?: Record<string, number> };
  };
  return { total: m.requests?.total ?? 0, hits: m.requests?.cache?.HIT ?? 0 };
}
