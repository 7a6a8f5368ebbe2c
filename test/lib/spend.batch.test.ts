/**
 * The spender over the isolate's settle batch, against the real ledger: every way a reserved call ends
 * closes its reservation once and queues what it owes, and nothing stays open.
 */
import { describe, expect, it } from 'vitest';
import { createBudget } from '../../lib/budget';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { BudgetExceededError, UpstreamTimeoutError } from '../../lib/errors';
import { createSettleBatch } from '../../lib/settle-batch';
import { createSpender } from '../../lib/spend';
import { bindings } from '../support/env';

const LIMIT = 1_000_000_000;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A spender on a ledger scope of its own, over a batch whose hold the test ends by hand. */
function spenderWithBatch() {
  const scope = `spend-batch-${crypto.randomUUID()}`;
  const deps = createDeps(parseEnv(bindings));
  const budget = createBudget(deps, { globalScope: scope });
  const holds: (() => void)[] = [];
  const batch = createSettleBatch({
    now: Date.now,
    sleep: () => new Promise<void>((wake) => holds.push(wake)),
  });
  const deferred: Promise<unknown>[] = [];
  const spender = createSpender(
    {
      budget,
      now: Date.now,
      defer: (work) => deferred.push(work),
      log: quiet,
      alert: async () => undefined,
      settles: { batch, holdMs: 1_000, openMs: 60_000 },
    },
    {
      scopes: [{ scope, limit: LIMIT }],
      alertThresholdNanos: LIMIT,
      limitNanos: LIMIT,
      describe: () => ({ name: 'the test scope', shown: true }),
    },
  );
  /** Ends every hold, waits for everything deferred, and reads the scope. */
  const ledger = async () => {
    for (const wake of holds.splice(0)) wake();
    await Promise.all(deferred.splice(0));
    return (await budget.read([scope])).scopes[0];
  };
  return { spender, batch, ledger };
}

describe('spending through the settle batch', () => {
  it('settles what each of several overlapping calls cost, in whatever order they end', async () => {
    const { spender, batch, ledger } = spenderWithBatch();
    const ends: (() => void)[] = [];
    const calls = [300, 100, 200].map((cost) =>
      spender.run(1_000, () => new Promise<number>((done) => ends.push(() => done(cost))), {
        value: (v) => v,
      }),
    );
    await expect.poll(() => ends.length).toBe(3);
    expect(batch.opened).toBe(3);
    for (const end of [ends[1], ends[0], ends[2]]) end?.();
    expect(await Promise.all(calls)).toEqual([300, 100, 200]);
    expect(batch.opened).toBe(0);
    expect(await ledger()).toMatchObject({ spentNanos: 600, reservedNanos: 0, calls: 3 });
  });

  it('charges a call that timed out its whole reservation, and releases one that cost nothing', async () => {
    const { spender, batch, ledger } = spenderWithBatch();
    const held = spender.run(10, () => new Promise<never>(() => undefined), { value: () => 0 });
    const timedOut = spender.run(
      1_000,
      async () => {
        throw new UpstreamTimeoutError({ message: 'no answer in time' });
      },
      { value: () => 0 },
    );
    await expect(timedOut).rejects.toBeInstanceOf(UpstreamTimeoutError);
    const refusedUpstream = spender.run(
      500,
      async () => {
        throw new Error('refused before any work was billed');
      },
      { value: () => 0, error: () => 0 },
    );
    await expect(refusedUpstream).rejects.toThrow('refused before');
    // Both held while the first call is open; the ledger still shows their worst cases.
    expect(batch.held).toBe(2);
    const during = await ledger();
    expect(during).toMatchObject({ spentNanos: 1_000, reservedNanos: 10 });
    void held;
  });

  it('closes the reservation when pricing the answer throws, and a refusal opens none', async () => {
    const { spender, batch, ledger } = spenderWithBatch();
    const priced = spender.run(100, async () => 'answer', {
      value: () => {
        throw new Error('unpriceable usage');
      },
    });
    await expect(priced).rejects.toThrow('unpriceable usage');
    expect(batch.opened).toBe(0);
    await expect(spender.run(LIMIT * 2, async () => 'never', { value: () => 0 })).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    expect(batch.opened).toBe(0);
    // The unpriceable call's lease is left to expire (charged in full then): nothing was settled.
    expect(await ledger()).toMatchObject({ spentNanos: 0, reservedNanos: 100 });
  });
});
