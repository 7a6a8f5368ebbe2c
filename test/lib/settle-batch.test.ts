/** The isolate's settle batch: what overlaps is written together, the last to close writes at once. */
import { describe, expect, it } from 'vitest';
import { createSettleBatch, OVERDUE_MS, type SettleWork } from '../../lib/settle-batch';
import { countingClient } from '../support/redis';

/** A clock the test moves, and sleeps it ends by hand, so a held write happens exactly when it says. */
function manualClock() {
  const waiting: { ms: number; wake: () => void }[] = [];
  let at = 1_000_000;
  return {
    sleep: (ms: number) => new Promise<void>((wake) => waiting.push({ ms, wake })),
    now: () => at,
    advance: (ms: number) => {
      at += ms;
    },
    wake: () => {
      for (const w of waiting.splice(0)) w.wake();
    },
    waiting,
  };
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

const LEASE = 60_000;

describe('createSettleBatch', () => {
  it('writes a lone reservation at once, without waiting', async () => {
    const clock = manualClock();
    const batch = createSettleBatch(clock);
    const { ran, work } = recorder();
    const write = batch.open(LEASE).close([work('a')], 5_000);
    expect(write).toBeInstanceOf(Promise);
    await write;
    expect(ran).toEqual(['a']);
    expect(clock.waiting).toHaveLength(0);
    expect(batch.opened).toBe(0);
  });

  it('holds settles while others are open; the last to close writes them all, in one turn', async () => {
    const clock = manualClock();
    const batch = createSettleBatch(clock);
    const { ran, work } = recorder();
    const [a, b, c] = [batch.open(LEASE), batch.open(LEASE), batch.open(LEASE)];
    const first = a.close([work('a')], 500);
    // The first to wait owns the held write (its waitUntil); the others hand theirs over.
    expect(first).toBeInstanceOf(Promise);
    expect(clock.waiting.map((w) => w.ms)).toEqual([500]);
    expect(b.close([work('b1'), work('b2')], 500)).toBeUndefined();
    expect(batch.held).toBe(3);
    expect(ran).toEqual([]);
    await c.close([work('c')], 500);
    expect(ran).toEqual(['a', 'b1', 'b2', 'c']);
    expect(batch.held).toBe(0);
    // Its hold, when up, finds nothing left to write.
    clock.wake();
    await first;
    expect(ran).toEqual(['a', 'b1', 'b2', 'c']);
  });

  it('writes what it holds when the hold is up, even while a reservation stays open', async () => {
    const clock = manualClock();
    const batch = createSettleBatch(clock);
    const { ran, work } = recorder();
    const long = batch.open(LEASE);
    const write = batch.open(LEASE).close([work('short')], 100);
    expect(ran).toEqual([]);
    clock.advance(100);
    clock.wake();
    await write;
    expect(ran).toEqual(['short']);
    expect(batch.opened).toBe(1);
    // The next settle held starts a hold of its own.
    const next = batch.open(LEASE).close([work('next')], 100);
    expect(next).toBeInstanceOf(Promise);
    await long.close([], 100);
    expect(ran).toEqual(['short', 'next']);
    clock.wake();
    await next;
  });

  it('takes over a write that was due and never came (its invocation died before its timer)', async () => {
    const clock = manualClock();
    const batch = createSettleBatch(clock);
    const { ran, work } = recorder();
    const long = batch.open(LEASE);
    // Its writer's sleep never ends: the invocation that owned it is gone.
    const lost = batch.open(LEASE).close([work('a')], 100);
    expect(lost).toBeInstanceOf(Promise);
    clock.advance(50);
    expect(batch.open(LEASE).close([work('b')], 100)).toBeUndefined();
    clock.advance(100 + OVERDUE_MS);
    const takeover = batch.open(LEASE).close([work('c')], 100);
    expect(takeover).toBeInstanceOf(Promise);
    expect(clock.waiting).toHaveLength(2);
    clock.waiting[1]?.wake();
    await takeover;
    expect(ran).toEqual(['a', 'b', 'c']);
    await long.close([], 100);
  });

  it('stops counting a reservation never closed once its lease is over', async () => {
    const clock = manualClock();
    const batch = createSettleBatch(clock);
    const { ran, work } = recorder();
    batch.open(LEASE); // its invocation was cancelled: never closed
    const held = batch.open(LEASE).close([work('a')], 100);
    clock.wake();
    await held;
    expect(batch.opened).toBe(1);
    clock.advance(LEASE);
    expect(batch.opened).toBe(0);
    // A lone call settles at once again.
    await batch.open(LEASE).close([work('b')], 100);
    expect(ran).toEqual(['a', 'b']);
    expect(clock.waiting).toHaveLength(0);
  });

  it('writes work closed twice, counting the reservation closed once', async () => {
    const batch = createSettleBatch(manualClock());
    const { ran, work } = recorder();
    const other = batch.open(LEASE);
    const ticket = batch.open(LEASE);
    ticket.close([work('a')], 100);
    ticket.close([work('again')], 100);
    expect(batch.opened).toBe(1);
    await other.close([], 100);
    expect(ran).toEqual(['a', 'again']);
  });

  it('writes at once with a hold of 0, and a failing settle keeps none of the rest from running', async () => {
    const batch = createSettleBatch(manualClock());
    const { ran, work } = recorder();
    const open = batch.open(LEASE);
    const rejects: SettleWork = () => Promise.reject(new Error('store down'));
    const throws: SettleWork = () => {
      throw new Error('thrown before any await');
    };
    await expect(batch.open(LEASE).close([rejects, throws, work('b')], 0)).resolves.toBeUndefined();
    expect(ran).toEqual(['b']);
    expect(batch.opened).toBe(1);
    await open.close([], 0);
  });

  it("sends the held settles' commands to Redis as one request", async () => {
    const { redis, requests } = countingClient();
    const clock = manualClock();
    const batch = createSettleBatch(clock);
    const key = `settle-batch-${crypto.randomUUID()}`;
    const tickets = Array.from({ length: 5 }, () => batch.open(LEASE));
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
    clock.wake();
    await Promise.all(writes);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toHaveLength(5);
    expect(await redis.get(key)).toBe(15);
    await redis.del(key);
  });
});
