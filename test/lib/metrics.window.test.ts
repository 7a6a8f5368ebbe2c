import { describe, expect, it } from 'vitest';
import { type MinuteCounters, readWindow, writeMetrics } from '../../lib/metrics/store';
import { summarize } from '../../lib/metrics/summary';
import { HOURLY_ABOVE, planWindow, type Source } from '../../lib/metrics/window';
import { countingClient } from '../support/redis';

/** The minutes a source stands for. */
const minutesIn = (s: Source) =>
  s.unit === 'm' ? [s.index] : Array.from({ length: 60 }, (_, i) => s.index * 60 + i);

describe('planWindow', () => {
  it('covers exactly the window in contiguous buckets, within 100 reads, for every length and offset', () => {
    for (const minutes of [
      1, 15, 59, 60, 61, 89, 90, 91, 119, 120, 121, 360, 1379, 1380, 1381, 1438, 1439, 1440,
    ]) {
      for (let offset = 0; offset < 60; offset++) {
        const last = 29_000_000 + offset;
        const plan = planWindow(last, minutes);
        const reads = new Set(plan.flatMap((b) => [...b.plus, ...b.minus].map((s) => `${s.unit}${s.index}`)));
        expect(reads.size).toBeLessThanOrEqual(minutes <= HOURLY_ABOVE ? minutes : 83);
        expect(plan[0]?.minute).toBe(last - minutes + 1);
        let next = last - minutes + 1;
        for (const b of plan) {
          expect(b.minute).toBe(next);
          next += b.minutes;
          // plus minus minus is each minute of the bucket exactly once
          const count = new Map<number, number>();
          for (const s of b.plus) for (const m of minutesIn(s)) count.set(m, (count.get(m) ?? 0) + 1);
          for (const s of b.minus) for (const m of minutesIn(s)) count.set(m, (count.get(m) ?? 0) - 1);
          const net = [...count].filter(([, n]) => n !== 0);
          expect(net.every(([, n]) => n === 1)).toBe(true);
          expect(net.map(([m]) => m).sort((a, z) => a - z)).toEqual(
            Array.from({ length: b.minutes }, (_, i) => b.minute + i),
          );
        }
        expect(next).toBe(last + 1);
      }
    }
  });

  it('keeps one bucket per minute up to an hour, and one per hour touched beyond', () => {
    expect(planWindow(1000, 60).every((b) => b.minutes === 1)).toBe(true);
    expect(planWindow(60 * 500 + 59, 1440)).toHaveLength(24);
    expect(planWindow(60 * 500 + 10, 1440)).toHaveLength(25);
  });
});

describe('readWindow over hourly rollups', () => {
  it('reads a 24 h window in one request of at most 100 hashes, with the totals of its minutes', async () => {
    const { redis, requests } = countingClient();
    const namespace = `win${crypto.randomUUID().slice(0, 8)}`;
    const options = { namespace, retentionDays: 1 };
    // A clock well before now, so the hashes are this test's own; now falls 17 minutes into an hour.
    const now = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 40 * 3_600_000 + 17 * 60_000 + 5_000;
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      // Spread over 26 hours: some before the window, some in its partial first and last hours.
      const at = now - Math.floor((i * 7919) % (26 * 60)) * 60_000 - (i % 50) * 1000;
      const increments = new Map([
        [`q|/v1/opportunities|2xx|-|-|n`, 1 + (i % 3)],
        [`q|/v1/opportunities|2xx|-|-|ms`, 100 + i],
        [`u|/v1/opportunities|text|openai|gpt-6-luna|${i % 5 ? 'ok' : 'timeout'}|-|n`, 1],
        [`u|/v1/opportunities|text|openai|gpt-6-luna|ok|-|cost`, 1000 * i],
      ]);
      writes.push(
        writeMetrics(redis, options, at, increments, (err) => {
          throw err;
        }),
      );
    }
    await Promise.all(writes);

    requests.length = 0;
    const hourly = await readWindow(redis, namespace, now, 1440);
    expect(requests).toHaveLength(1);
    const reads = (requests[0] ?? []).filter((c) => String((c as unknown[])[0]).toLowerCase() === 'hgetall');
    expect(reads.length).toBeGreaterThanOrEqual(24);
    expect(reads.length).toBeLessThanOrEqual(100);
    expect(hourly.length).toBeLessThanOrEqual(25);
    expect(hourly.reduce((n, b) => n + (b.minutes ?? 1), 0)).toBe(1440);

    // The same window minute by minute, an hour at a time.
    const byMinute: MinuteCounters[] = [];
    for (let k = 23; k >= 0; k--)
      byMinute.push(...(await readWindow(redis, namespace, now - k * 3_600_000, 60)));
    expect(byMinute).toHaveLength(1440);
    const strip = (s: ReturnType<typeof summarize>) => ({ ...s, series: null });
    expect(strip(summarize(hourly))).toEqual(strip(summarize(byMinute)));
    expect(summarize(hourly).requests.total).toBeGreaterThan(0);
    // Each hourly bucket holds what its minutes hold.
    let at = 0;
    for (const b of hourly) {
      const minutes = byMinute.slice(at, at + (b.minutes ?? 1));
      at += b.minutes ?? 1;
      expect(summarize([b]).requests.total).toBe(summarize(minutes).requests.total);
      expect(summarize([b]).total_cost_usd).toBe(summarize(minutes).total_cost_usd);
    }
  });
});
