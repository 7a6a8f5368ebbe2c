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

describe('createStoreGate', () => {
  it('sends at most `limit` calls at once and the rest in the order they came', async () => {
    let clock = 1_000;
    const gate = createStoreGate(2, () => clock);
    const calls = Array.from({ length: 5 }, held);
    const started: number[] = [];
    const runs = calls.map((call, i) =>
      gate.run(() => {
        started.push(i);
        return call.work();
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([gate.active, gate.queued]).toEqual([2, 3]);
    clock += 250;
    expect(gate.queueDelayMs(clock)).toBe(250);

    calls[1]?.finish();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    calls[0]?.finish();
    await runs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const call of calls) call.finish();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3, 4]);
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
