/**
 * `npm run drill`: resilience drills against the local stack (wrangler dev, the Upstash REST bridge over a
 * real redis-server, the OpenAI simulator with a backup provider). Each drill prints a one-line verdict
 * and what was lost (target: nothing); the results go to bench/results/drills.{json,md} and the "Drills"
 * section of bench/RESULTS.md.
 *
 * Options: `--only=faults,soak` runs some drills; `--scale=0.1` shrinks loads and durations to validate
 * the drills quickly. Only a full run (every drill, scale 1) writes results, unless `--write`;
 * `--only=bad-input --merge` puts a rerun drill's result in place of its own in the committed results,
 * marked as rerun, and keeps the others.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { badInputDrill } from './drills/bad-input.ts';
import { budgetRaceDrill } from './drills/budget-race.ts';
import { faultsDrill } from './drills/faults.ts';
import { type Drill, type DrillResult, type OwnStackDrill, readBudget } from './drills/harness.ts';
import { invoiceDrill } from './drills/invoice.ts';
import { primaryDownDrill } from './drills/primary-down.ts';
import { reasoningDrill } from './drills/reasoning.ts';
import { redisDownDrill } from './drills/redis-down.ts';
import { type DrillRun, formatLost, mergeIntoResults, writeResults } from './drills/report.ts';
import { soakDrill } from './drills/soak.ts';
import { type Stack, startStack } from './lib/stack.ts';

/**
 * Gateway settings for the drills: short upstream timeouts and backoff so a timeout fault costs seconds,
 * not the default 30 s per attempt, and a 3 s breaker so recovery through half-open fits in the run.
 */
export const DRILL_SETTINGS: Record<string, string> = {
  OPENAI_TIMEOUT_SECONDS: '3',
  OPENAI_RETRY_BASE_MS: '250',
  OPENAI_RETRY_MAX_DELAY_MS: '2000',
  OPENAI_CIRCUIT_BREAKER_TIMEOUT: '3',
  ...gatewaySettingsFromEnv(),
};

/** `DRILL_GATEWAY_SETTINGS='{"OVERLOAD_LATENCY_MS":"800"}'`: gateway settings to try a drill under. */
function gatewaySettingsFromEnv(): Record<string, string> {
  const raw = process.env.DRILL_GATEWAY_SETTINGS;
  if (!raw) return {};
  const parsed: unknown = JSON.parse(raw);
  if (!parsed || typeof parsed !== 'object' || Object.values(parsed).some((v) => typeof v !== 'string'))
    throw new Error(
      'DRILL_GATEWAY_SETTINGS must be a JSON object of strings, e.g. {"OVERLOAD_LATENCY_MS":"800"}',
    );
  return parsed as Record<string, string>;
}

/**
 * In the order they run: the quiet checks first (bad input needs an idle upstream), the soak last, then
 * then the reasoning and invoice drills, which start their own stacks (the simulator's realistic profile;
 * the invoice's own small budget).
 */
export const DRILLS: Record<string, Drill> = {
  'bad-input': badInputDrill,
  'budget-race': budgetRaceDrill,
  'redis-down': redisDownDrill,
  faults: faultsDrill,
  'primary-down': primaryDownDrill,
  soak: soakDrill,
};

/** Drills that bring their own stack, run after the others; the shared one is not started for them. */
export const OWN_STACK_DRILLS: Record<string, OwnStackDrill> = {
  reasoning: reasoningDrill,
  invoice: invoiceDrill,
};
const ALL_DRILLS = [...Object.keys(DRILLS), ...Object.keys(OWN_STACK_DRILLS)];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    scale: { type: 'string', default: '1' },
    write: { type: 'boolean' },
    merge: { type: 'boolean' },
  },
});
const scale = Number(values.scale);
const only = values.only?.split(',') ?? ALL_DRILLS;
const unknown = only.filter((name) => !ALL_DRILLS.includes(name));
if (!(scale > 0 && scale <= 1) || unknown.length || (values.merge && scale !== 1)) {
  console.error(
    `usage: node bench/drill.ts [--only=${ALL_DRILLS.join(',')}] [--scale=0<s≤1] [--write | --merge (scale 1)]`,
  );
  process.exit(2);
}

const log = (line: string) => console.log(`  ${line}`);
const startedAt = new Date();
const loadAtStart = Math.round((loadavg()[0] ?? 0) * 100) / 100;
const started = performance.now();
const sharedStack = !only.every((name) => name in OWN_STACK_DRILLS);
if (sharedStack)
  console.log(
    `drills: starting the stack (${Object.entries(DRILL_SETTINGS)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')})`,
  );
const stack = sharedStack ? await startStack({ backup: true, env: DRILL_SETTINGS }) : undefined;
// An interrupted run must not leave servers behind on a shared machine.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130)));
}
const results: DrillResult[] = [];
let ledger: DrillRun['ledger_at_end'] = null;
try {
  for (const name of ALL_DRILLS.filter((n) => only.includes(n))) {
    console.log(`drill ${name}:`);
    const t0 = performance.now();
    let result: DrillResult;
    try {
      const own = OWN_STACK_DRILLS[name];
      const outcome = own
        ? await own({ scale, log })
        : await (DRILLS[name] as Drill)({ stack: stack as Stack, scale, log });
      result = { ...outcome, duration_s: seconds(t0) };
    } catch (error) {
      // A drill that cannot finish is a failed drill, not a crashed run: the others still run.
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      result = {
        name,
        title: name,
        ok: false,
        verdict: `did not finish: ${message.split('\n')[0]}`,
        lost: { drill_aborted: 1 },
        figures: { error: message },
        findings: [`the drill threw: ${message.split('\n')[0]}`],
        duration_s: seconds(t0),
      };
    }
    results.push(result);
    console.log(`${result.ok ? 'PASS' : 'FAIL'} ${name} (${result.duration_s} s): ${result.verdict}`);
    console.log(`     lost: ${formatLost(result.lost)}`);
    for (const finding of result.findings) console.log(`     finding: ${finding}`);
  }
  const budget = stack ? await readBudget(stack, stack.adminKey).catch(() => null) : null;
  if (budget) ledger = { spent_usd: budget.spent_usd, reserved_usd: budget.reserved_usd };
} finally {
  await stack?.stop();
}

const run: DrillRun = {
  started_at: startedAt.toISOString(),
  duration_s: seconds(started),
  scale,
  machine: { cpus: cpus().length, node: process.version, load_average_at_start: loadAtStart },
  settings: DRILL_SETTINGS,
  drills: results,
  ledger_at_end: ledger,
};
const passed = results.filter((r) => r.ok).length;
console.log(
  `drills: ${passed}/${results.length} passed in ${run.duration_s} s; ledger at the end: ` +
    (ledger ? `${ledger.spent_usd} USD spent, ${ledger.reserved_usd} USD reserved` : 'unreadable'),
);
// A partial or shrunken run must not replace the real results.
if (values.merge) {
  writeResults(mergeIntoResults(run));
  console.log(`drills: merged ${only.join(', ')} into bench/results/drills.json, drills.md and RESULTS.md`);
} else if ((scale === 1 && only.length === ALL_DRILLS.length) || values.write) {
  writeResults(run);
  console.log('drills: wrote bench/results/drills.json, bench/results/drills.md and bench/RESULTS.md');
}
process.exit(passed === results.length ? 0 : 1);

function seconds(since: number): number {
  return Math.round((performance.now() - since) / 100) / 10;
}
