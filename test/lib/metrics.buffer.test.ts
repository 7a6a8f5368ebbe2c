/** The isolate's metrics buffer against the real Redis: one write per flush interval, nothing lost. */
import { describe, expect, it } from 'vitest';
import { createMetricsBuffer } from '../../lib/metrics/buffer';
import { readWindow, writeMetrics } from '../../lib/metrics/store';
import { countingClient } from '../support/redis';

const MINUTE = 60_000;

/** A sleep the test ends by hand, so a flush happens exactly when the test says. */
function manualSleep() {
  const waiting: (() => void)[] = [];
  const sleep = () => new Promise<void>((resolve) => waiting.push(resolve));
  const wake = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  return { sleep, wake, waiting };
}

const namespace = () => `buf-${crypto.randomUUID().slice(0, 8)}`;
const counts = (entries: [string, number][]) => new Map(entries);

describe('createMetricsBuffer', () => {
  it('holds every request until the interval ends, then writes them in one round trip', async () => {
    const { redis, requests } = countingClient();
    const { sleep, wake, waiting } = manualSleep();
    const buffer = createMetricsBuffer(sleep);
    const ns = namespace();
    const options = { namespace: ns, retentionDays: 1, flushMs: 5_000 };
    const write = { redis, onError: (err: unknown) => expect.fail(String(err)) };
    const at = 1_000 * MINUTE + 10;
    // The script loaded in Redis first, as it is in a running gateway (its first use sends the source).
    await writeMetrics(
      redis,
      { namespace: namespace(), retentionDays: 1 },
      at,
      counts([['warm', 1]]),
      () => {},
    );
    requests.length = 0;

    const flush = buffer.add(at, counts([['req', 1]]), write, options);
    expect(flush).toBeInstanceOf(Promise);
    // Later requests join the pending write, across a minute boundary too.
    expect(
      buffer.add(
        at + 5,
        counts([
          ['req', 1],
          ['hit', 1],
        ]),
        write,
        options,
      ),
    ).toBeUndefined();
    expect(buffer.add(at + MINUTE, counts([['req', 1]]), write, options)).toBeUndefined();
    expect(buffer.pending).toBe(2);
    expect(requests).toHaveLength(0);
    expect(waiting).toHaveLength(1);

    wake();
    await flush;
    expect(requests).toHaveLength(1);
    expect(requests[0]).toHaveLength(2); // one script per minute, in one pipeline
    expect(buffer.pending).toBe(0);
    const window = await readWindow(redis, ns, at + MINUTE, 2);
    expect(window.map((m) => m.fields)).toEqual([{ req: 2, hit: 1 }, { req: 1 }]);
  });

  it('schedules the next write with the first request after a flush', async () => {
    const { redis } = countingClient();
    const { sleep, wake } = manualSleep();
    const buffer = createMetricsBuffer(sleep);
    const options = { namespace: namespace(), retentionDays: 1, flushMs: 5_000 };
    const write = { redis, onError: () => undefined };
    const first = buffer.add(Date.now(), counts([['req', 1]]), write, options);
    wake();
    await first;
    expect(buffer.add(Date.now(), counts([['req', 1]]), write, options)).toBeInstanceOf(Promise);
  });

  it('keeps gateways that share one isolate apart, and writes at once with no interval', async () => {
    const { redis, requests } = countingClient();
    const buffer = createMetricsBuffer(() => expect.fail('no interval, no sleep'));
    const [a, b] = [namespace(), namespace()];
    const write = { redis, onError: () => undefined };
    const at = 2_000 * MINUTE;
    await buffer.add(at, counts([['req', 3]]), write, { namespace: a, retentionDays: 1, flushMs: 0 });
    await buffer.add(at, counts([['req', 4]]), write, { namespace: b, retentionDays: 1, flushMs: 0 });
    expect(requests).toHaveLength(2);
    expect((await readWindow(redis, a, at, 1))[0]?.fields).toEqual({ req: 3 });
    expect((await readWindow(redis, b, at, 1))[0]?.fields).toEqual({ req: 4 });
  });

  it('writes nothing for a request without increments', () => {
    const buffer = createMetricsBuffer(() => expect.fail('nothing to wait for'));
    const { redis } = countingClient();
    const options = { namespace: namespace(), retentionDays: 1, flushMs: 5_000 };
    expect(buffer.add(Date.now(), new Map(), { redis, onError: () => undefined }, options)).toBeUndefined();
    expect(buffer.pending).toBe(0);
  });
});
