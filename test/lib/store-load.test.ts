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
});
