/**
 * Faults: 30 % of the primary's upstream calls fail (429 with retry-after, 500, 503, timeouts, malformed
 * bodies, in equal parts, on every endpoint, moderation included) while a steady stream of
 * `POST /v1/opportunities` runs, mostly misses. Measures the client-visible success rate (target ≥ 99.5 %,
 * the playbook's figure, with retries and the backup on), retries, fallbacks, breaker transitions, and
 * that no budget reservation is left behind.
 */
import { uniqueWord } from '../../dev/unique-word.ts';
import { countTransitions, watchBreakers } from './breakers.ts';
import {
  byStatus,
  type Drill,
  gw,
  metricsDelta,
  missIntent,
  percentile,
  readMetrics,
  simRequests,
  sleep,
  steady,
  waitForSettled,
} from './harness.ts';

/** The playbook's success-rate target. */
export const SUCCESS_TARGET = 0.995;
const FAULT_SHARE = 0.3;

/**
 * Five fault kinds sharing `share` of the calls equally. The simulator takes the first fault that wins
 * its roll, so each rate is conditional on the ones before it having lost theirs.
 */
export function mixedFaults(share = FAULT_SHARE) {
  const kinds = [
    { kind: 'status', status: 429, retry_after_s: 0.5 },
    { kind: 'status', status: 500 },
    { kind: 'status', status: 503 },
    { kind: 'timeout' },
    { kind: 'malformed' },
  ];
  const each = share / kinds.length;
  return kinds.map((fault, i) => ({ ...fault, rate: round(each / (1 - each * i)) }));
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

export const faultsDrill: Drill = async ({ stack, scale, log }) => {
  const key = await stack.createKey({ rpm: 1_000_000 });
  const run = uniqueWord(8);
  const warm = `drill ${run} warm intent for trail running socks`;
  await gw(stack, '/v1/opportunities', { key, body: { intent: warm } });

  const metricsBefore = await readMetrics(stack);
  const simBefore = await simRequests(stack, stack.simKeys.primary);
  await stack.simConfigure(stack.simKeys.primary, { faults: mixedFaults() });
  const breakers = watchBreakers(stack);
  const ratePerSec = 5;
  const durationMs = Math.max(5_000, 60_000 * scale);
  log(
    `faults: ${ratePerSec} req/s for ${durationMs / 1000} s with ${FAULT_SHARE * 100} % of upstream calls failing`,
  );
  const samples = await steady({
    ratePerSec,
    durationMs,
    // One in ten repeats the warm intent (a cache hit); the rest are misses.
    make: (i) =>
      gw(stack, '/v1/opportunities', { key, body: { intent: i % 10 === 9 ? warm : missIntent(run, i) } }),
  });
  const transitions = await breakers.stop();
  await stack.simConfigure(stack.simKeys.primary, {});
  const simCalls = (await simRequests(stack, stack.simKeys.primary)) - simBefore;

  await sleep(1500); // metrics are written in waitUntil, after each response
  const budget = await waitForSettled(stack, key);
  const metrics = metricsDelta(metricsBefore, await readMetrics(stack));
  const replies = samples.map((s) => s.result);
  const ok = replies.filter((r) => r.status === 200).length;
  const successRate = ok / replies.length;
  const providers: Record<string, number> = {};
  for (const r of replies) {
    const provider = r.headers.get('x-gateway-provider') ?? (r.status === 200 ? 'cache' : 'none');
    providers[provider] = (providers[provider] ?? 0) + 1;
  }
  const failedCodes: Record<string, number> = {};
  for (const r of replies.filter((r) => r.status !== 200)) {
    const code =
      `${r.status} ${(r.body as { error?: { code?: string } })?.error?.code ?? r.error ?? ''}`.trim();
    failedCodes[code] = (failedCodes[code] ?? 0) + 1;
  }
  const leaked = budget.reserved_usd + (budget.key?.reserved_usd ?? 0);
  const lost = {
    failed_requests: replies.length - ok,
    server_errors_5xx: replies.filter((r) => r.status >= 500).length,
    no_answer: replies.filter((r) => r.status === 0).length,
    leaked_reservations_usd: leaked,
  };
  const findings: string[] = [];
  if (successRate < SUCCESS_TARGET) {
    findings.push(
      `success rate ${pct(successRate)} is below the ${pct(SUCCESS_TARGET)} target: ${JSON.stringify(failedCodes)}`,
    );
  }
  if (leaked > 0) findings.push(`${leaked} USD still reserved after the run`);
  const latencies = replies.map((r) => r.ms);
  return {
    name: 'faults',
    title: `Faults: ${FAULT_SHARE * 100} % of upstream calls fail`,
    ok: successRate >= SUCCESS_TARGET && leaked === 0 && lost.server_errors_5xx === 0,
    verdict:
      `${ok}/${replies.length} succeeded (${pct(successRate)}, target ≥ ${pct(SUCCESS_TARGET)}); ` +
      `${metrics.retries} retries, ${metrics.fallbacks} fallbacks, ${transitions.length} breaker transitions`,
    lost,
    figures: {
      requests: replies.length,
      rate_per_s: ratePerSec,
      duration_s: durationMs / 1000,
      fault_share: FAULT_SHARE,
      faults: mixedFaults(),
      success_rate: successRate,
      by_status: byStatus(replies),
      failed_by_code: failedCodes,
      served_by: providers,
      primary_upstream_requests: simCalls,
      latency_ms: {
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        max: Math.max(...latencies),
      },
      ...metrics,
      breaker_transitions: countTransitions(transitions),
      reserved_after_usd: leaked,
    },
    findings,
  };
};

export const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
