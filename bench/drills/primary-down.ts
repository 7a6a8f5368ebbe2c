/**
 * Primary down: while misses stream in, the primary fails twice. First its text model (`/v1/responses`
 * answers 503): measures how many requests it takes until every request is served by the backup
 * (`x-gateway-provider`), how many paid for the primary's retries before its breaker opened, and the
 * time and requests until the primary serves again through half-open. Then the whole primary (every
 * endpoint, moderation included, as when OpenAI is down): what clients see with only the backup left.
 */

import { uniqueWord } from '../../dev/unique-word.ts';
import { countTransitions, watchBreakers } from './breakers.ts';
import {
  type Drill,
  type DrillStack,
  gw,
  missIntent,
  readMetrics,
  simRequests,
  sleep,
  steady,
  waitForSettled,
} from './harness.ts';
import { errorCode, type Reply } from './http.ts';

const PRIMARY = 'openai';
const PHASES = ['healthy', 'text-down', 'text-back', 'all-down', 'all-back'] as const;
type Phase = (typeof PHASES)[number];

/** What the primary's simulator key gets in each phase. */
const FAULTS: Record<Phase, object> = {
  healthy: {},
  'text-down': { faults: [{ kind: 'status', status: 503, endpoint: '/v1/responses' }] },
  'text-back': {},
  'all-down': { faults: [{ kind: 'status', status: 503 }] },
  'all-back': {},
};

interface Row {
  phase: Phase;
  /** ms since its phase began. */
  atMs: number;
  reply: Reply;
}

export const primaryDownDrill: Drill = async ({ stack, scale, log }) => {
  const key = await stack.createKey({ rpm: 1_000_000 });
  const run = uniqueWord(8);
  await waitForClosedBreakers(stack);
  const ratePerSec = 8;
  const lengths = [5_000, 15_000, 12_000, 8_000, 10_000].map((ms, i) =>
    Math.max([2_000, 6_000, 6_000, 4_000, 5_000][i] as number, ms * scale),
  );
  const starts = lengths.map((_, i) => lengths.slice(0, i).reduce((a, b) => a + b, 0));
  const phaseAt = (elapsed: number) => PHASES[starts.findLastIndex((s) => elapsed >= s)] as Phase;
  let current: Phase = 'healthy';
  // The primary's text calls at each phase change: how many reached it while its text model was down.
  const textCalls: Partial<Record<Phase, number>> = {};
  const textCallsNow = () => simRequests(stack, stack.simKeys.primary, '/v1/responses');
  log(
    `primary-down: ${ratePerSec} req/s; phases ${PHASES.map((p, i) => `${p} ${(lengths[i] as number) / 1000} s`).join(', ')}`,
  );
  const breakers = watchBreakers(stack, 500);
  const samples = await steady({
    ratePerSec,
    durationMs: lengths.reduce((a, b) => a + b, 0),
    onTick: async (elapsed) => {
      const phase = phaseAt(elapsed);
      if (phase !== current) {
        current = phase;
        textCalls[phase] = await textCallsNow();
        await stack.simConfigure(stack.simKeys.primary, FAULTS[phase]);
      }
    },
    make: async (i, elapsed): Promise<Row> => {
      const phase = phaseAt(elapsed);
      const reply = await gw(stack, '/v1/opportunities', { key, body: { intent: missIntent(run, i) } });
      return { phase, atMs: elapsed - (starts[PHASES.indexOf(phase)] as number), reply };
    },
  });
  await stack.simConfigure(stack.simKeys.primary, {});
  const transitions = await breakers.stop();
  const budget = await waitForSettled(stack, key);
  const rows = samples.map((s) => s.result);
  const of = (phase: Phase) => rows.filter((r) => r.phase === phase);

  const provider = (r: Row) => r.reply.headers.get('x-gateway-provider');
  const down = of('text-down');
  // The first outage request from which on every outage request was served by the backup.
  const allBackupFrom = lastIndexWhere(down, (r) => r.reply.status !== 200 || provider(r) === PRIMARY) + 1;
  const fastMs = median(of('healthy').map((r) => r.reply.ms));
  // Retries and backoff before the fallback make a request several times slower than a direct one.
  const slowMs = Math.max(1000, fastMs * 4);
  const paidRetries = down.filter((r) => r.reply.ms > slowMs).length;
  // Requests still in flight when the whole primary went down would meet that outage instead.
  const back = of('text-back').filter((r) => r.atMs + r.reply.ms < (lengths[2] as number));
  const firstPrimary = back.find((r) => provider(r) === PRIMARY);
  const lastNotPrimary = lastIndexWhere(back, (r) => provider(r) !== PRIMARY);
  const recovered = back[lastNotPrimary + 1];
  const failedIn = (phases: Phase[]) =>
    rows.filter((r) => phases.includes(r.phase) && r.reply.status !== 200);
  const textFailures = failedIn(['healthy', 'text-down', 'text-back']);
  const allDownFailures = failedIn(['all-down']);
  const leaked = budget.reserved_usd + (budget.key?.reserved_usd ?? 0);
  const lost = {
    failed_text_outage: textFailures.length,
    failed_full_outage: allDownFailures.length,
    failed_after_full_outage: failedIn(['all-back']).filter((r) => r.atMs > 5_000).length,
    server_errors_5xx: rows.filter((r) => r.reply.status >= 500).length,
    served_by_primary_while_down: down.filter((r) => provider(r) === PRIMARY).length,
    leaked_reservations_usd: leaked,
  };
  const findings: string[] = [];
  if (textFailures.length)
    findings.push(`text model down: ${textFailures.length} requests failed: ${codes(textFailures)}`);
  if (allDownFailures.length) {
    findings.push(
      `whole primary down: ${allDownFailures.length}/${of('all-down').length} requests failed (${codes(allDownFailures)}); ` +
        `served: ${JSON.stringify(countBy(of('all-down'), (r) => provider(r) ?? `status ${r.reply.status}`))}`,
    );
  }
  if (!recovered) findings.push('the primary did not serve every request again before the phase ended');
  if (leaked > 0) findings.push(`${leaked} USD still reserved 10 s after the run`);
  const seconds = (r: Row | undefined) => (r ? Number((r.atMs / 1000).toFixed(1)) : null);
  return {
    name: 'primary-down',
    title: 'Primary down, then back',
    ok: Object.values(lost).every((n) => n === 0) && recovered !== undefined,
    verdict:
      (allBackupFrom < down.length
        ? `text model down: backup served every request from outage request #${allBackupFrom + 1} of ${down.length}`
        : `text model down: the backup never served every request`) +
      ` (${paidRetries} slowed by the primary's retries; ${(textCalls['text-back'] ?? 0) - (textCalls['text-down'] ?? 0)} ` +
      `calls reached the primary, probes included); primary serving again ${seconds(firstPrimary) ?? 'never'} s ` +
      `after it came back${recovered ? `, everything after ${seconds(recovered)} s (${lastNotPrimary + 1} requests)` : ''}; ` +
      `whole primary down: ${of('all-down').length - allDownFailures.length}/${of('all-down').length} succeeded`,
    lost,
    figures: {
      requests: rows.length,
      rate_per_s: ratePerSec,
      phases_s: Object.fromEntries(PHASES.map((p, i) => [p, (lengths[i] as number) / 1000])),
      served_by: Object.fromEntries(
        PHASES.map((p) => [p, countBy(of(p), (r) => provider(r) ?? `status ${r.reply.status}`)]),
      ),
      failed_by_code: Object.fromEntries(PHASES.map((p) => [p, countBy(failedIn([p]), label)])),
      failure_messages: sampleMessages(rows.filter((r) => r.reply.status !== 200)),
      requests_until_all_backup: allBackupFrom,
      primary_text_calls_while_down: (textCalls['text-back'] ?? 0) - (textCalls['text-down'] ?? 0),
      outage_requests_slowed_by_retries: paidRetries,
      slow_threshold_ms: slowMs,
      outage_latency_ms: {
        median: median(down.map((r) => r.reply.ms)),
        max: Math.max(0, ...down.map((r) => r.reply.ms)),
      },
      recovery_first_primary_s: seconds(firstPrimary),
      recovery_all_primary_s: seconds(recovered),
      recovery_requests_until_primary: recovered ? lastNotPrimary + 1 : null,
      breaker_transitions: countTransitions(transitions),
      breaker_timeline: transitions,
      reserved_after_usd: leaked,
    },
    findings,
  };
};

/** Waits (up to 15 s) until no breaker is open, so an earlier drill's trips do not count here. */
async function waitForClosedBreakers(stack: DrillStack): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { breakers } = await readMetrics(stack);
    if (breakers.every((b) => b.state === 'closed')) return;
    // An open breaker closes only when a probe succeeds: send a request through.
    await gw(stack, '/v1/opportunities', {
      key: stack.adminKey,
      body: { intent: `breaker probe ${Date.now()}` },
    });
    await sleep(1000);
  }
}

function lastIndexWhere<T>(list: T[], test: (item: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i] as T)) return i;
  return -1;
}

function countBy<T>(list: T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of list) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

/** One message per failure label, for the report. */
function sampleMessages(rows: Row[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    out[label(r)] ??= (
      (r.reply.body as { error?: { message?: string } })?.error?.message ?? r.reply.text
    ).slice(0, 300);
  }
  return out;
}

const label = (r: Row) => `${r.reply.status} ${errorCode(r.reply) ?? r.reply.error ?? ''}`.trim();
const codes = (rows: Row[]) => JSON.stringify(countBy(rows, label));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
