import { describe, expect, it } from 'vitest';
import { createStoreGate } from '../../lib/store-gate';

/** A call the test finishes by hand. */
function held() {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { work: () => done, finish };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('createStoreGate', () => {
  it('sends at most `limit` calls at once; the others go as slots free up, and all of them end', async () => {
    let clock = 1_000;
    const gate = createStoreGate(2, () => clock);
    const calls = Array.from({ length: 5 }, held);
    let running = 0;
    let most = 0;
    const runs = calls.map((call) =>
      gate.run(async () => {
        running += 1;
        most = Math.max(most, running);
        await call.work();
        running -= 1;
      }),
    );
    await tick();
    expect([gate.active, gate.queued]).toEqual([2, 3]);
    clock += 250;
    expect(gate.queueDelayMs(clock)).toBe(250);

    calls[0]?.finish();
    await tick();
    expect([gate.active, gate.queued]).toEqual([2, 2]);
    for (const call of calls) call.finish();
    await Promise.all(runs);
    expect(most).toBe(2);
    expect([gate.active, gate.queued, gate.queueDelayMs(clock)]).toEqual([0, 0, 0]);
  });

  it('frees the slot of a call that failed', async () => {
    const gate = createStoreGate(1);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'next')).toBe('next');
    expect(gate.active).toBe(0);
  });

  it('refuses a limit that cannot work', () => {
    expect(() => createStoreGate(0)).toThrow(RangeError);
    expect(() => createStoreGate(1.5)).toThrow(RangeError);
  });
});
