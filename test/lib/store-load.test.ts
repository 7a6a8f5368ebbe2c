import { describe, expect, it } from 'vitest';
import { createStoreLoad } from '../../lib/store-load';

describe('createStoreLoad', () => {
  it('averages how long calls take, and fades while none ends', async () => {
    let clock = 0;
    const load = createStoreLoad(() => clock, 1000);
    const call = (ms: number) =>
      load.run(async () => {
        clock += ms;
      });
    expect(load.latencyMs(clock)).toBe(0);
    for (let i = 0; i < 20; i++) await call(800);
    // Twenty slow calls: the average is near their duration.
    expect(load.latencyMs(clock)).toBeGreaterThan(700);
    // One half-life without a call ending halves it; a few more and the isolate is no longer loaded.
    expect(load.latencyMs(clock + 1000)).toBeCloseTo(load.latencyMs(clock) / 2, 5);
    expect(load.latencyMs(clock + 5000)).toBeLessThan(50);
    // Fast calls bring it down too.
    for (let i = 0; i < 20; i++) await call(2);
    expect(load.latencyMs(clock)).toBeLessThan(50);
  });

  it('counts a call that failed', async () => {
    let clock = 0;
    const load = createStoreLoad(() => clock);
    await expect(
      load.run(async () => {
        clock += 1000;
        throw new Error('timed out');
      }),
    ).rejects.toThrow('timed out');
    expect(load.latencyMs(clock)).toBeCloseTo(200, 5);
  });

  it('takes the shortest recent call as the time the store takes on its own: queueing is what the average adds', async () => {
    let clock = 0;
    const load = createStoreLoad(() => clock);
    const call = (ms: number) =>
      load.run(async () => {
        clock += ms;
      });
    // A far store, 600 ms a call on its own: slow, but nothing queues.
    for (let i = 0; i < 20; i++) await call(600);
    expect(load.latencyMs(clock)).toBeGreaterThan(550);
    expect(load.queueingMs(clock)).toBeLessThan(1);
    // A fast store under a loaded isolate: calls of 5 ms and of 800 ms, the difference queued.
    clock += 20_000; // the 600 ms calls leave its memory
    await call(5);
    for (let i = 0; i < 5; i++) await call(800); // 4 s: the 5 ms call is still within its memory
    expect(load.queueingMs(clock)).toBeGreaterThan(500);
    expect(load.queueingMs(clock)).toBeCloseTo(load.latencyMs(clock) - 5, 5);
  });
});
