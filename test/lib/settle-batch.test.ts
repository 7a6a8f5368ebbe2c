/** The isolate's settle batch: what overlaps is written together, the last to close writes at once. */
import { describe, expect, it } from 'vitest';
import { createSettleBatch, type SettleWork } from '../../lib/settle-batch';
import { countingClient } from '../support/redis';

/** A sleep the test ends by hand, so a held write happens exactly when the test says. */
function manualSleep() {
  const waiting: { ms: number; wake: () => void }[] = [];
  const sleep = (ms: number) => new Promise<void>((wake) => waiting.push({ ms, wake }));
  const wake = () => {
    for (const w of waiting.splice(0)) w.wake();
  };
  return { sleep, wake, waiting };
}

/** Work that records when it ran. */
function recorder() {
  const ran: string[] = [];
  const work =
    (name: string): SettleWork =>
    async () => {
      ran.push(name);
    };
  return { ran, work };
}

describe('createSettleBatch', () => {
  it('writes a lone reservation at once, without waiting', async () => {
    const { sleep, waiting } = manualSleep();
    const batch = createSettleBatch(sleep);
    const { ran, work } = recorder();
    const write = batch.open().close([work('a')], 5_000);
    expect(write).toBeInstanceOf(Promise);
    await write;
    expect(ran).toEqual(['a']);
    expect(waiting).toHaveLength(0);
    expect(batch.opened).toBe(0);
  });

  it('holds settles while others are open; the last to close writes them all, in one turn', async () => {
    const { sleep, waiting } = manualSleep();
    const batch = createSettleBatch(sleep);
    const { ran, work } = recorder();
    const [a, b, c] = [batch.open(), batch.open(), batch.open()];
    const first = a.close([work('a')], 5_000);
    // The first to wait owns the held write (its waitUntil); the others hand theirs over.
    expect(first).toBeInstanceOf(Promise);
    expect(waiting.map((w) => w.ms)).toEqual([5_000]);
    expect(b.close([work('b1'), work('b2')], 5_000)).toBeUndefined();
    expect(batch.held).toBe(3);
    expect(ran).toEqual([]);
    await c.close([work('c')], 5_000);
    expect(ran).toEqual(['a', 'b1', 'b2', 'c']);
    expect(batch.held).toBe(0);
  });

  it('writes what it holds when the hold is up, even while a reservation stays open', async () => {
    const { sleep, wake } = manualSleep();
    const batch = createSettleBatch(sleep);
    const { ran, work } = recorder();
    const long = batch.open();
    const write = batch.open().close([work('short')], 100);
    expect(ran).toEqual([]);
    wake();
    await write;
    expect(ran).toEqual(['short']);
    expect(batch.opened).toBe(1);
    // The next settle held starts a hold of its own.
    const next = batch.open().close([work('next')], 100);
    expect(next).toBeInstanceOf(Promise);
    await long.close([], 100);
    expect(ran).toEqual(['short', 'next']);
    // Its hold, when up, finds nothing left to write.
    wake();
    await next;
    expect(ran).toEqual(['short', 'next']);
  });

  it('counts a reservation closed once, however often it is closed', async () => {
    const batch = createSettleBatch(manualSleep().sleep);
    const { ran, work } = recorder();
    const other = batch.open();
    const ticket = batch.open();
    ticket.close([work('a')], 100);
    expect(ticket.close([work('again')], 100)).toBeUndefined();
    expect(batch.opened).toBe(1);
    await other.close([], 100);
    expect(ran).toEqual(['a']);
  });

  it('writes at once with a hold of 0, and a failing settle does not keep the rest from running', async () => {
    const batch = createSettleBatch(manualSleep().sleep);
    const { ran, work } = recorder();
    const open = batch.open();
    const failing: SettleWork = () => Promise.reject(new Error('store down'));
    await expect(batch.open().close([failing, work('b')], 0)).resolves.toBeUndefined();
    expect(ran).toEqual(['b']);
    expect(batch.opened).toBe(1);
    await open.close([], 0);
  });

  it("sends the held settles' commands to Redis as one request", async () => {
    const { redis, requests } = countingClient();
    const { sleep, wake } = manualSleep();
    const batch = createSettleBatch(sleep);
    const key = `settle-batch-${crypto.randomUUID()}`;
    const tickets = Array.from({ length: 5 }, () => batch.open());
    const writes = tickets.map((t, i) =>
      t.close(
        [
          async () => {
            await redis.incrby(key, i + 1);
          },
        ],
        5_000,
      ),
    );
    // The last to close wrote them all; the first's hold, when up, finds nothing.
    await writes.at(-1);
    wake();
    await Promise.all(writes);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toHaveLength(5);
    expect(await redis.get(key)).toBe(15);
    await redis.del(key);
  });
});
