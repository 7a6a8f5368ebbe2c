/**
 * Metrics in Redis: each request's increments are added with one script call (after the response, in
 * `waitUntil`), to the hash of its minute (kept for the retention) and to running totals (for
 * Prometheus counters). A window is read back with one pipelined request.
 */
import { METRICS_ADD } from '../scripts/metrics';
import { runScript } from '../scripts/run';
import { type Redis, redisKey } from '../store';

const MINUTE_MS = 60_000;

export interface MetricsStoreOptions {
  /** Separates gateways (say staging and production) that share one Redis. */
  namespace: string;
  retentionDays: number;
}

export const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS);
const minuteKey = (namespace: string, minute: number) => redisKey('metrics', namespace, 'm', minute);
const totalsKey = (namespace: string) => redisKey('metrics', namespace, 'total');

/** Adds increments at `at`; resolves whatever happens (metrics never fail a request). */
export async function writeMetrics(
  redis: Pick<Redis, 'evalsha' | 'eval'>,
  options: MetricsStoreOptions,
  at: number,
  increments: Map<string, number>,
  onError: (err: unknown) => void,
): Promise<void> {
  if (increments.size === 0) return;
  const args: (string | number)[] = [Math.ceil(options.retentionDays * 86_400)];
  for (const [name, by] of increments) args.push(name, by);
  const keys = [minuteKey(options.namespace, minuteOf(at)), totalsKey(options.namespace)];
  await runScript(redis, METRICS_ADD, keys, args).catch(onError);
}

/** One minute's counters. */
export interface MinuteCounters {
  minute: number;
  fields: Record<string, number>;
}

/** The last `minutes` minutes up to `now`, oldest first, in one pipelined request. */
export async function readWindow(
  redis: Pick<Redis, 'pipeline'>,
  namespace: string,
  now: number,
  minutes: number,
): Promise<MinuteCounters[]> {
  const last = minuteOf(now);
  const window = Array.from({ length: minutes }, (_, i) => last - minutes + 1 + i);
  const p = redis.pipeline();
  for (const minute of window) p.hgetall(minuteKey(namespace, minute));
  const hashes = await p.exec<(Record<string, unknown> | null)[]>();
  return window.map((minute, i) => ({ minute, fields: numeric(hashes[i]) }));
}

/** The running totals since the namespace began (or Redis was flushed). */
export async function readTotals(
  redis: Pick<Redis, 'hgetall'>,
  namespace: string,
): Promise<Record<string, number>> {
  return numeric(await redis.hgetall<Record<string, unknown>>(totalsKey(namespace)));
}

function numeric(hash: Record<string, unknown> | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(hash ?? {})) out[name] = Number(value) || 0;
  return out;
}
