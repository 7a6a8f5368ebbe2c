/**
 * Metrics amortised per isolate: each request adds its increments to the isolate's buffer (no Redis),
 * and the buffer is written at most once every `METRICS_FLUSH_SECONDS`, by the request that found it
 * empty, in its `waitUntil`: one round trip for every request the isolate served meanwhile, so a cache
 * hit costs one round trip in all. The loss is bounded: an isolate evicted while it holds increments
 * loses at most one flush interval of its own requests' counts (the request that scheduled the flush
 * keeps the isolate alive until it is written, within Workers' 30 s of `waitUntil`).
 */
import type { Redis } from '../store';
import { minuteOf, writeMetrics } from './store';

export interface FlushOptions {
  namespace: string;
  retentionDays: number;
  /** 0 writes each request's increments at once. */
  flushMs: number;
}

export interface MetricsBuffer {
  /**
   * Adds `increments` counted at `at`; returns the write to hand to `waitUntil` when this request must
   * flush (the buffer was empty: it waits out the interval, then writes everything held), else nothing.
   */
  add(
    at: number,
    increments: Map<string, number>,
    write: { redis: Pick<Redis, 'evalsha' | 'eval'>; onError: (err: unknown) => void },
    options: FlushOptions,
  ): Promise<void> | undefined;
  /** Minutes held, not yet written (for tests and logs). */
  readonly pending: number;
  /** Whether a write is on its way: an `add` now only joins it, and returns nothing to wait for. */
  readonly scheduled: boolean;
}

export function createMetricsBuffer(sleep: (ms: number) => Promise<void>): MetricsBuffer {
  /** namespace → its retention and minute → field → increment; one script call per minute written. */
  let held = new Map<string, { retentionDays: number; minutes: Map<number, Map<string, number>> }>();
  let scheduled = false;

  const flush = async (write: {
    redis: Pick<Redis, 'evalsha' | 'eval'>;
    onError: (err: unknown) => void;
  }) => {
    const taken = held;
    held = new Map();
    scheduled = false;
    // Issued in one tick: the store's batching sends every minute's script in one request.
    await Promise.all(
      [...taken].flatMap(([namespace, { retentionDays, minutes }]) =>
        [...minutes].map(([minute, fields]) =>
          writeMetrics(write.redis, { namespace, retentionDays }, minute * 60_000, fields, write.onError),
        ),
      ),
    );
  };

  return {
    add(at, increments, write, options) {
      if (increments.size === 0) return undefined;
      let store = held.get(options.namespace);
      if (!store) {
        store = { retentionDays: options.retentionDays, minutes: new Map() };
        held.set(options.namespace, store);
      }
      const minute = minuteOf(at);
      let fields = store.minutes.get(minute);
      if (!fields) {
        fields = new Map();
        store.minutes.set(minute, fields);
      }
      addAll(fields, increments);
      if (options.flushMs <= 0) return flush(write);
      if (scheduled) return undefined;
      scheduled = true;
      return sleep(options.flushMs).then(() => flush(write));
    },
    // biome-ignore lint/plugin: built once per isolate (newIsolateState in lib/deps.ts), not per request
    get scheduled() {
      return scheduled;
    },
    // biome-ignore lint/plugin: built once per isolate (newIsolateState in lib/deps.ts), not per request
    get pending() {
      let minutes = 0;
      for (const store of held.values()) minutes += store.minutes.size;
      return minutes;
    },
  };
}

/** Adds each increment to `into`; forEach, not for-of: no entry pair per field, on every request. */
function addAll(into: Map<string, number>, increments: Map<string, number>): void {
  increments.forEach((by, name) => {
    into.set(name, (into.get(name) ?? 0) + by);
  });
}
