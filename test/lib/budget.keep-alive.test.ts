import { describe, expect, it, vi } from 'vitest';
import type { Budget, Reservation } from '../../lib/budget';
import type { Held } from '../../lib/budget/held';
import { keepLeaseAlive } from '../../lib/budget/keep-alive';
import { UpstreamError } from '../../lib/errors';
import { createSpender } from '../../lib/spend';

// Renewal timers of a tiny lease, against a budget that records each renewal: the ledger's own renew
// is tested on real Redis in budget.renew.test.ts, the proxy's stream in openai-proxy.lease.test.ts.
const LEASE_MS = 30; // renewed every 10 ms
const RESERVATION: Reservation = { id: 'bres_x', day: '2026-11-27', amount: 5, scopes: ['global'] };

/** A budget whose renewals are counted; `renewed(n)` resolves once n have been made. */
function countingBudget(answers: (() => Promise<boolean>)[] = []) {
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const budget = {
    leaseMs: LEASE_MS,
    reserve: async () => ({ ok: true as const, reservation: RESERVATION, degraded: false }),
    renew: vi.fn(async () => {
      const answer = answers[count] ?? (async () => true);
      count += 1;
      for (const w of waiters.filter((w) => w.n <= count)) w.resolve();
      return answer();
    }),
    settle: vi.fn(async () => ({
      day: RESERVATION.day,
      spentNanos: 5,
      crossed: [],
      overrun: false,
      alreadySettled: false,
    })),
    release: vi.fn(async () => true),
  };
  const renewed = (n: number) =>
    new Promise<void>((resolve) => (count >= n ? resolve() : waiters.push({ n, resolve })));
  return { budget: budget as unknown as Budget & typeof budget, renewed, count: () => count };
}

/** Long enough for several renewals to have been due. */
const severalPeriods = () => new Promise((resolve) => setTimeout(resolve, 5 * LEASE_MS));

function spender(budget: Budget) {
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const run = createSpender(
    { budget, now: Date.now, defer: () => undefined, log, alert: async () => undefined },
    {
      scopes: [{ scope: 'global', limit: 100 }],
      alertThresholdNanos: 80,
      limitNanos: 100,
      describe: (name) => ({ name, shown: true }),
    },
  );
  return { run: run.run.bind(run), log };
}

describe('a reservation kept alive while its work runs', () => {
  it('is renewed every third of its lease, and no more once the work has returned', async () => {
    const { budget, renewed, count } = countingBudget();
    const { run } = spender(budget);
    await run(
      5,
      async ({ keepAlive }: Held) => {
        keepAlive();
        await renewed(3);
        return 'done';
      },
      { value: () => 5 },
    );
    const after = count();
    await severalPeriods();
    expect(count()).toBe(after);
    expect(budget.renew).toHaveBeenCalledWith(RESERVATION);
  });

  it('stops renewing when the work fails (an upstream error), before the reservation is settled', async () => {
    const { budget, renewed, count } = countingBudget();
    const { run } = spender(budget);
    const failed = run(
      5,
      async ({ keepAlive }: Held) => {
        keepAlive();
        await renewed(2);
        throw new UpstreamError({ message: 'broke off' });
      },
      { value: () => 5, error: () => 5 },
    );
    await expect(failed).rejects.toBeInstanceOf(UpstreamError);
    const after = count();
    await severalPeriods();
    expect(count()).toBe(after);
  });

  it('stops when its caller stops it (the client cancelled the stream), though the work runs on', async () => {
    const { budget, renewed, count } = countingBudget();
    const { run } = spender(budget);
    await run(
      5,
      async ({ keepAlive }: Held) => {
        const stop = keepAlive();
        await renewed(1);
        stop();
        const after = count();
        await severalPeriods();
        expect(count()).toBe(after);
      },
      { value: () => 5 },
    );
  });

  it('keeps renewing past a failed renewal, and stops, with a warning, once the lease has ended', async () => {
    const unavailable = async () => {
      throw new Error('store unavailable');
    };
    const { budget, renewed, count } = countingBudget([unavailable, async () => true, async () => false]);
    const log = { warn: vi.fn() };
    const stop = keepLeaseAlive(budget, RESERVATION, log);
    await renewed(3);
    await severalPeriods();
    expect(count()).toBe(3);
    stop();
    expect(log.warn.mock.calls.map(([msg]) => msg)).toEqual([
      'budget lease renewal failed; retried at the next tick',
      'budget lease ended while its call was running; it was charged, and its settle corrects that',
    ]);
  });
});
