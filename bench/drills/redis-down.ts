/**
 * Redis down and back: the bridge (the gateway's Upstash endpoint) is stopped during mixed traffic (cache
 * hits, misses, `GET /v1/budget`, `/health`) and started again. The documented policy while it is down:
 * authentication and budgets fail closed with `503 store_unavailable` (`/health`, asked with the admin
 * key, answers 503), never a 500, never a dropped connection. After it is back every request must succeed again and the ledger must
 * hold nothing reserved.
 */

import { uniqueWord } from '../../dev/unique-word.ts';
import {
  type Drill,
  gw,
  missIntent,
  readBudget,
  type Sample,
  sleep,
  steady,
  waitForSettled,
} from './harness.ts';
import { errorCode, isTypedError, type Reply } from './http.ts';

/** Requests started this long after the bridge is back may still see it down; later ones may not. */
const RECOVERY_GRACE_MS = 2_000;

type Kind = 'hit' | 'miss' | 'budget' | 'health';
const KINDS: Kind[] = ['hit', 'miss', 'hit', 'budget', 'hit', 'miss', 'health', 'hit', 'miss', 'budget'];

export const redisDownDrill: Drill = async ({ stack, scale, log }) => {
  const key = await stack.createKey({ rpm: 1_000_000 });
  const run = uniqueWord(8);
  const warm = `drill ${run} warm intent for merino base layers`;
  if ((await gw(stack, '/v1/opportunities', { key, body: { intent: warm } })).status !== 200) {
    throw new Error('could not warm the cache');
  }
  const spentBefore = (await readBudget(stack, key)).key?.spent_usd ?? 0;
  const ratePerSec = 10;
  const downAtMs = Math.max(2_000, 4_000 * scale);
  const upAtMs = downAtMs + Math.max(4_000, 10_000 * scale);
  const durationMs = upAtMs + Math.max(5_000, 10_000 * scale);
  let phase = 'before' as 'before' | 'down' | 'up';
  let bridgeBackMs = 0;
  log(
    `redis-down: ${ratePerSec} req/s; the bridge stops at ${downAtMs / 1000} s and restarts at ${upAtMs / 1000} s`,
  );
  const started = performance.now();
  const samples = await steady({
    ratePerSec,
    durationMs,
    onTick: async (elapsed) => {
      if (phase === 'before' && elapsed >= downAtMs) {
        phase = 'down';
        await stack.stopBridge();
      } else if (phase === 'down' && elapsed >= upAtMs) {
        phase = 'up';
        await stack.startBridge();
        bridgeBackMs = performance.now() - started;
      }
    },
    make: async (i) => {
      const kind = KINDS[i % KINDS.length] as Kind;
      const reply = await request(kind);
      return { kind, reply, endedMs: performance.now() - started };
    },
  });
  if (phase === 'down') await stack.startBridge();

  async function request(kind: Kind): Promise<Reply> {
    if (kind === 'health') return gw(stack, '/health', { key: stack.adminKey });
    if (kind === 'budget') return gw(stack, '/v1/budget', { key });
    const intent = kind === 'hit' ? warm : missIntent(run, Math.floor(Math.random() * 1e9));
    return gw(stack, '/v1/opportunities', { key, body: { intent } });
  }

  type Row = Sample<{ kind: Kind; reply: Reply; endedMs: number }>;
  // A request whose lifetime overlaps the outage (plus the grace) may see it; any other must succeed.
  const overlapsOutage = (s: Row) =>
    s.result.endedMs >= downAtMs && s.startedMs < bridgeBackMs + RECOVERY_GRACE_MS;
  const outage = samples.filter(overlapsOutage);
  const outside = samples.filter((s) => !overlapsOutage(s));
  const afterGrace = samples.filter((s) => s.startedMs >= bridgeBackMs + RECOVERY_GRACE_MS);
  const okStatus = (s: Row) => s.result.reply.status === 200;
  // While down: 200 (a request that finished its Redis work in time) or 503 store_unavailable (health: 503).
  const acceptableDown = (s: Row) =>
    okStatus(s) ||
    (s.result.reply.status === 503 &&
      (s.result.kind === 'health' ||
        (isTypedError(s.result.reply.body) && errorCode(s.result.reply) === 'store_unavailable')));
  const firstOkAfter = samples.find(
    (s) => s.startedMs >= bridgeBackMs && okStatus(s) && s.result.kind !== 'health',
  );

  await sleep(500);
  const budget = await waitForSettled(stack, key);
  const leaked = budget.reserved_usd + (budget.key?.reserved_usd ?? 0);
  const spent = (budget.key?.spent_usd ?? 0) - spentBefore;
  const outsideFailures = outside.filter((s) => !okStatus(s));
  const lost = {
    // Requests that never overlapped the outage (before it, or from 2 s after it) must all succeed.
    failed_outside_outage: outsideFailures.length,
    off_policy_during_outage: outage.filter((s) => !acceptableDown(s)).length,
    server_errors_500: samples.filter((s) => s.result.reply.status === 500).length,
    no_answer: samples.filter((s) => s.result.reply.status === 0).length,
    leaked_reservations_usd: leaked,
  };
  const findings: string[] = [];
  if (lost.off_policy_during_outage) {
    findings.push(`while Redis was down: ${describe(outage.filter((s) => !acceptableDown(s)))}`);
  }
  if (outsideFailures.length) findings.push(`outside the outage: ${describe(outsideFailures)}`);
  if (leaked > 0) {
    findings.push(
      `${leaked} USD still reserved after recovery: a settle that ran while Redis was down could not release ` +
        'its reservation; the lease (120 s) expires it, see the ledger after the last drill',
    );
  }
  const ok = Object.values(lost).every((n) => n === 0);
  const recoverySeconds = firstOkAfter ? (firstOkAfter.startedMs - bridgeBackMs) / 1000 : null;
  return {
    name: 'redis-down',
    title: 'Redis down and back',
    ok,
    verdict:
      `${outage.length} requests met the ${((bridgeBackMs - downAtMs) / 1000).toFixed(1)} s outage: ` +
      `${summarize(outage)}; first success ${recoverySeconds === null ? 'never' : `${recoverySeconds.toFixed(1)} s`} ` +
      `after the bridge was back, ${afterGrace.filter(okStatus).length}/${afterGrace.length} succeeded after it`,
    lost,
    figures: {
      requests: samples.length,
      rate_per_s: ratePerSec,
      outage_s: (bridgeBackMs - downAtMs) / 1000,
      during_outage: countBy(outage),
      outside_outage: countBy(outside),
      after_recovery: countBy(afterGrace),
      recovery_first_success_s: recoverySeconds,
      key_spent_during_drill_usd: spent,
      reserved_after_usd: leaked,
    },
    findings,
  };
};

function countBy(rows: Sample<{ kind: Kind; reply: Reply }>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { result } of rows) {
    const label = `${result.kind} ${result.reply.status}${errorCode(result.reply) ? ` ${errorCode(result.reply)}` : ''}`;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

const summarize = (rows: Sample<{ kind: Kind; reply: Reply }>[]) =>
  Object.entries(countBy(rows))
    .map(([label, n]) => `${n}× ${label}`)
    .join(', ');

const describe = (rows: Sample<{ kind: Kind; reply: Reply }>[]) => JSON.stringify(countBy(rows));
