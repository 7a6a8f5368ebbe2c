/**
 * Soak: 500 concurrent connections for 60 s on the cache-hit path (`POST /v1/opportunities` with one warm
 * intent). Zero errors is the target (connection errors, timeouts, non-2xx), and every process of the
 * stack (gateway, workerd, bridge, Redis, simulator) must keep a flat memory: VmRSS from
 * `/proc/<pid>/status` sampled before the load, early in it, in the middle and at the end.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { type Drill, type DrillStack, gw, readMetrics, sleep } from './harness.ts';

/**
 * Growth over the second half (middle to end sample) that still counts as flat: the larger of the two.
 * The first half is reported too but includes warm-up (JIT, heap sizing, connection buffers).
 */
const FLAT_MIB = 16;
const FLAT_SHARE = 0.1;

/** A process's resident memory in KiB, or null once it is gone. */
export function rssKib(pid: number): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb);
  } catch {
    return null;
  }
}

type Samples = Record<string, { pid: number; kib: (number | null)[] }>;

function sampleAll(processes: { name: string; pid: number }[], into: Samples): void {
  for (const { name, pid } of processes) {
    const label = `${name} (${pid})`;
    into[label] ??= { pid, kib: [] };
    into[label].kib.push(rssKib(pid));
  }
}

export const soakDrill: Drill = async ({ stack, scale, log }) => {
  const key = await stack.createKey({ rpm: 1_000_000 });
  const body = JSON.stringify({
    intent: `soak warm intent ${Date.now()}: rain jackets for cycling commuters`,
  });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
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
  // The error code of every non-2xx answer, so a failure says what it was (autocannon counts only statuses).
  const errorCodes: Record<string, number> = {};
  const result = await autocannon({
    url: `${stack.gatewayUrl}/v1/opportunities`,
    connections,
    duration: durationS,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers,
        body,
        onResponse: (status, text) => {
          if (status < 300) return;
          const code = `${status} ${/"code":"([^"]+)"/.exec(text)?.[1] ?? 'untyped'}`;
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        },
      },
    ],
  });
  for (const timer of timers) clearTimeout(timer);
  await sleep(2000); // metrics of the last responses are written after them
  const metricsAfter = await readRequests(stack);

  const memory = Object.entries(samples).map(([label, { kib }]) => {
    const [before, early, middle, end] = kib;
    const growth = end != null && middle != null ? end - middle : null;
    const flat = growth === null || growth <= Math.max(FLAT_MIB * 1024, (middle ?? 0) * FLAT_SHARE);
    return {
      process: label,
      before_kib: before,
      early_kib: early,
      middle_kib: middle,
      end_kib: end,
      growth_kib: growth,
      growth_from_early_kib: end != null && early != null ? end - early : null,
      flat,
    };
  });
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]),
  );
  const hits = metricsAfter.hits - metricsBefore.hits;
  const counted = metricsAfter.total - metricsBefore.total;
  const lost = {
    connection_errors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    non_2xx: result.non2xx,
    processes_with_memory_growth: memory.filter((m) => !m.flat).length,
  };
  const findings: string[] = [];
  if (result.non2xx) findings.push(`non-2xx answers: ${JSON.stringify(errorCodes)}`);
  for (const m of memory.filter((m) => !m.flat)) {
    findings.push(
      `${m.process} grew ${mib(m.growth_kib ?? 0)} from ${mib(m.middle_kib ?? 0)} in the second half`,
    );
  }
  if (hits < counted) findings.push(`${counted - hits} of ${counted} counted requests were not cache hits`);
  const rps = Math.round(result.requests.total / result.duration);
  return {
    name: 'soak',
    title: `Soak: ${connections} connections for ${durationS} s (cache hits)`,
    ok: Object.values(lost).every((n) => n === 0),
    verdict:
      `${result.requests.total} requests, ${rps} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ` +
      `${result.errors + result.non2xx} errors; memory ${memory.every((m) => m.flat) ? 'flat' : 'GREW'} ` +
      `(largest second-half growth ${mib(Math.max(0, ...memory.map((m) => m.growth_kib ?? 0)))}, ` +
      `from the early sample ${mib(Math.max(0, ...memory.map((m) => m.growth_from_early_kib ?? 0)))})`,
    lost,
    figures: {
      connections,
      duration_s: result.duration,
      requests: result.requests.total,
      rps,
      latency_ms: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
      },
      status_codes: statusCodes,
      error_codes: errorCodes,
      errors: result.errors,
      timeouts: result.timeouts,
      gateway_counted_requests: counted,
      gateway_cache_hits: hits,
      memory,
      flat_rule: `end − middle ≤ max(${FLAT_MIB} MiB, ${FLAT_SHARE * 100} % of middle)`,
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

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
