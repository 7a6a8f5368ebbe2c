/**
 * Metrics in Redis: each request's increments are added with one script call (after the response, in
 * `waitUntil`), to the hash of its minute and of its hour (both kept for the retention) and to running
 * totals (for Prometheus counters). A window is read back with one request: its minutes, or for a long
 * window mostly hours (lib/metrics/window.ts).
 */
import { METRICS_ADD } from '../scripts/metrics';
import { runScript } from '../scripts/run';
import { type Redis, redisKey } from '../store';
import { accumulate, planWindow, type Source, settled } from './window';

const MINUTE_MS = 60_000;

export interface MetricsStoreOptions {
  /** Separates gateways (say staging and production) that share one Redis. */
  namespace: string;
  retentionDays: number;
}

export const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS);
const minuteKey = (namespace: string, minute: number) => redisKey('metrics', namespace, 'm', minute);
const hourKey = (namespace: string, hour: number) => redisKey('metrics', namespace, 'h', hour);
const sourceKey = (namespace: string, s: Source) =>
  s.unit === 'm' ? minuteKey(namespace, s.index) : hourKey(namespace, s.index);
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
  const minute = minuteOf(at);
  const keys = [
    minuteKey(options.namespace, minute),
    hourKey(options.namespace, Math.floor(minute / 60)),
    totalsKey(options.namespace),
  ];
  await runScript(redis, METRICS_ADD, keys, args).catch(onError);
}

/** The counters of one bucket of a window: a minute, or (in long windows) up to an hour. */
export interface MinuteCounters {
  /** The bucket's first minute (minutes since the epoch). */
  minute: number;
  /** How many minutes the bucket covers; 1 when absent. */
  minutes?: number;
  fields: Record<string, number>;
}

/**
 * The last `minutes` minutes up to `now`, oldest first, in one request: one bucket per minute, or
 * for windows over an hour one per hour (at most 83 hashes for 24 h; lib/metrics/window.ts). Hourly
 * buckets are read in a transaction, since one may be an hour minus some of its minutes.
 */
export async function readWindow(
  redis: Pick<Redis, 'pipeline' | 'multi'>,
  namespace: string,
  now: number,
  minutes: number,
): Promise<MinuteCounters[]> {
  const plan = planWindow(minuteOf(now), minutes);
  const keys = [...new Set(plan.flatMap((b) => [...b.plus, ...b.minus].map((s) => sourceKey(namespace, s))))];
  const hourly = plan.some((b) => b.minutes > 1);
  const p = hourly ? redis.multi() : redis.pipeline();
  for (const key of keys) p.hgetall(key);
  const hashes = await p.exec<(Record<string, unknown> | null)[]>();
  const byKey = new Map(keys.map((key, i) => [key, numeric(hashes[i])]));
  const read = (s: Source) => byKey.get(sourceKey(namespace, s)) ?? {};
  return plan.map((b) => {
    if (!hourly) return { minute: b.minute, minutes: 1, fields: read(b.plus[0] as Source) };
    const fields: Record<string, number> = {};
    for (const s of b.plus) accumulate(fields, read(s), 1);
    for (const s of b.minus) accumulate(fields, read(s), -1);
    return { minute: b.minute, minutes: b.minutes, fields: settled(fields) };
  });
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
