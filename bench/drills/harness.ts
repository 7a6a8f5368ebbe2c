/**
 * What every drill shares: the slice of the bench stack it drives, its result record, an open-loop load
 * generator, and readers for the gateway's metrics and budget.
 */
import type { Stack } from '../lib/stack.ts';
import { type Ask, type Reply, send } from './http.ts';

/** The part of the bench stack (bench/lib/stack.ts) the drills use. */
export type DrillStack = Pick<
  Stack,
  | 'gatewayUrl'
  | 'workerEntryUrl'
  | 'simulatorUrl'
  | 'bridgeUrl'
  | 'redisUrl'
  | 'adminKey'
  | 'simKeys'
  | 'metricsFlushMs'
  | 'createKey'
  | 'simConfigure'
  | 'stopBridge'
  | 'startBridge'
  | 'processes'
>;

/** What a drill is handed. */
export interface DrillContext {
  stack: DrillStack;
  /** 1 for the real run; smaller shrinks loads and durations to validate the drill quickly. */
  scale: number;
  log: (line: string) => void;
}

/** One drill's outcome: its verdict, what was lost (target: all zero) and its figures. */
export interface DrillResult {
  name: string;
  title: string;
  /** Every target met and nothing lost. */
  ok: boolean;
  /** One line: what happened. */
  verdict: string;
  /** Counts of what was lost: failed requests, leaked reservations, overspend, 5xx, … (target: 0). */
  lost: Record<string, number>;
  figures: Record<string, unknown>;
  /** Targets missed or anything else a reader must know. */
  findings: string[];
  duration_s: number;
  /** Set when this drill was rerun alone and merged into an earlier full run (`--merge`). */
  rerun?: { started_at: string; load_average_at_start: number };
}

/** A drill module's entry point. */
export type Drill = (ctx: DrillContext) => Promise<Omit<DrillResult, 'duration_s'>>;

/** A drill that starts (and stops) a stack of its own, with settings the shared one cannot have. */
export type OwnStackDrill = (ctx: Omit<DrillContext, 'stack'>) => Promise<Omit<DrillResult, 'duration_s'>>;

/** A gateway request with the stack's URL in front. */
export const gw = (stack: DrillStack, path: string, ask?: Ask): Promise<Reply> =>
  send(`${stack.gatewayUrl}${path}`, ask);

/** One request of a load run, with when it started relative to the run. */
export interface Sample<T> {
  index: number;
  startedMs: number;
  result: T;
}

/**
 * Open-loop load: starts `make(i)` every `1000 / ratePerSec` ms for `durationMs` (whatever is in flight),
 * then waits for all of them. `onTick(elapsedMs)` runs before each start, for drills that change faults
 * mid-run.
 */
export async function steady<T>(options: {
  ratePerSec: number;
  durationMs: number;
  make: (index: number, elapsedMs: number) => Promise<T>;
  onTick?: (elapsedMs: number) => Promise<void> | void;
}): Promise<Sample<T>[]> {
  const started = performance.now();
  const intervalMs = 1000 / options.ratePerSec;
  const pending: Promise<Sample<T>>[] = [];
  for (let index = 0; ; index++) {
    const due = index * intervalMs;
    if (due >= options.durationMs) break;
    const wait = due - (performance.now() - started);
    if (wait > 0) await sleep(wait);
    const elapsed = performance.now() - started;
    await options.onTick?.(elapsed);
    pending.push(options.make(index, elapsed).then((result) => ({ index, startedMs: elapsed, result })));
  }
  return Promise.all(pending);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The `GET /v1/metrics` fields the drills compare before and after. */
export interface MetricsView {
  total_calls: number;
  successful_calls: number;
  retries: number;
  fallbacks: number;
  repairs: number;
  errors: Record<string, number>;
  breakers: { name: string; state: string }[];
}

/** Reads `GET /v1/metrics?minutes=60` with the admin key. */
export async function readMetrics(stack: DrillStack): Promise<MetricsView> {
  let reply = await gw(stack, '/v1/metrics?minutes=60', { key: stack.adminKey });
  // A gateway still shedding after a load answers 503 overloaded with Retry-After: come back then.
  for (let tries = 0; tries < 10 && reply.status === 503 && reply.text.includes('"overloaded"'); tries++) {
    await sleep(1000);
    reply = await gw(stack, '/v1/metrics?minutes=60', { key: stack.adminKey });
  }
  if (reply.status !== 200) throw new Error(`GET /v1/metrics answered ${reply.status}: ${reply.text}`);
  return reply.body as MetricsView;
}

/** What changed between two metric reads (counters only). */
export function metricsDelta(before: MetricsView, after: MetricsView) {
  const errors: Record<string, number> = {};
  for (const [code, n] of Object.entries(after.errors)) {
    const d = n - (before.errors[code] ?? 0);
    if (d) errors[code] = d;
  }
  return {
    upstream_calls: after.total_calls - before.total_calls,
    upstream_ok: after.successful_calls - before.successful_calls,
    retries: after.retries - before.retries,
    fallbacks: after.fallbacks - before.fallbacks,
    repairs: after.repairs - before.repairs,
    upstream_errors: errors,
    breakers: after.breakers,
  };
}

/** Today's budget as the caller sees it: the gateway's and (for a client key) its own. */
export interface BudgetView {
  spent_usd: number;
  reserved_usd: number;
  limit_usd: number;
  key: { spent_usd: number; reserved_usd: number; limit_usd: number | null } | null;
}

export async function readBudget(stack: DrillStack, key: string): Promise<BudgetView> {
  const reply = await gw(stack, '/v1/budget', { key });
  if (reply.status !== 200) throw new Error(`GET /v1/budget answered ${reply.status}: ${reply.text}`);
  return reply.body as BudgetView;
}

/**
 * Polls the budget until nothing is reserved (settles run in `waitUntil`, after the response), or
 * `timeoutMs` passes; returns the last read.
 */
export async function waitForSettled(
  stack: DrillStack,
  key: string,
  timeoutMs = 10_000,
): Promise<BudgetView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const budget = await readBudget(stack, key);
    const reserved = budget.reserved_usd + (budget.key?.reserved_usd ?? 0);
    if (reserved === 0 || Date.now() > deadline) return budget;
    await sleep(250);
  }
}

/** How many requests the simulator has seen for one key, across endpoints or at one (`/v1/responses`). */
export async function simRequests(stack: DrillStack, key: string, endpoint?: string): Promise<number> {
  const reply = await send(`${stack.simulatorUrl}/_sim/stats?key=${encodeURIComponent(key)}`);
  const requests = (reply.body as { requests?: Record<string, number> } | undefined)?.requests ?? {};
  if (endpoint !== undefined) return requests[endpoint] ?? 0;
  return Object.values(requests).reduce((sum, n) => sum + n, 0);
}

/** Counts replies by status ("0" = no answer). */
export function byStatus(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

/** A JSON body with distinct words, so every request is a cache miss. */
export const missIntent = (run: string, i: number) =>
  `drill ${run} shopper ${i} wants ${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]} number ${i}`;

const WORDS = [
  'hiking boots',
  'espresso machine',
  'running shoes',
  'winter coat',
  'board games',
  'yoga mat',
  'desk lamp',
  'camping stove',
  'headphones',
  'plant pots',
  'rain jacket',
  'kitchen knives',
];

/** A run tag the profanity filter cannot read as a word (hex does: "a55", "fa6"). */
export function cleanTag(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => 'bdgjmpqvwxz'[b % 11]).join('');
}
