import { describe, expect, it } from 'vitest';
import { type Admitted, createAdmission } from '../../lib/admission';

/** A clock the test moves: sleepers wake in time order as it advances. */
function virtualClock(start = 1_000_000) {
  let now = start;
  const timers: { at: number; wake: () => void }[] = [];
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((wake) => void timers.push({ at: now + ms, wake })),
    /** Moves the clock on by `ms`, waking every sleeper due on the way. */
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        await settle();
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        now = next.at;
        next.wake();
      }
      now = end;
      await settle();
    },
  };
}

const limits = { targetMs: 200, maxWaitMs: 2000, burst: 64 };
const sorted = (ns: number[]) => [...ns].sort((a, b) => a - b);
const firstN = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Enters `n` requests at once; `started` lists their indexes in the order they started. */
function enterMany(
  admission: ReturnType<typeof createAdmission>,
  clock: ReturnType<typeof virtualClock>,
  n: number,
  at = limits,
) {
  const started: number[] = [];
  const results: (Admitted | undefined)[] = Array.from({ length: n });
  for (let i = 0; i < n; i++) {
    void admission.enter(at, clock).then((admitted) => {
      results[i] = admitted;
      if ('waitedMs' in admitted) started.push(i);
    });
  }
  return { started, results };
}

describe('createAdmission', () => {
  it('starts requests at once while the calls do not queue and none comes in a burst', async () => {
    const clock = virtualClock();
    const admission = createAdmission(() => 0);
    for (let i = 0; i < 30; i++) {
      expect(await admission.enter(limits, clock)).toEqual({ waitedMs: 0 });
      admission.finished(clock.now());
      await clock.advance(5);
    }
    expect(admission.rate).toBeNull();
  });

  it('never paces a steady closed loop, however many it starts a second: only the work in flight counts as a burst', async () => {
    // A cold isolate (nothing answered yet) and 50 clients, each sending its next request as soon as
    // it is answered in 5 ms: 1,000 starts a second, 100 in every tenth of a second, yet never more
    // than 50 at once. Counted by starts, this was taken for a burst and paced for seconds.
    const clock = virtualClock();
    const admission = createAdmission(() => 0);
    const waits: number[] = [];
    const client = async () => {
      for (let i = 0; i < 20; i++) {
        const admitted = await admission.enter(limits, clock);
        waits.push('waitedMs' in admitted ? admitted.waitedMs : Number.POSITIVE_INFINITY);
        await clock.sleep(5);
        admission.finished(clock.now());
      }
    };
    const clients = Promise.all(Array.from({ length: 50 }, client));
    await clock.advance(500);
    await clients;
    expect(waits).toHaveLength(1000);
    expect(waits.filter((ms) => ms !== 0)).toEqual([]);
    expect(admission.rate).toBeNull();
  });

  it('lets a burst through whole when bursts are not paced (burst: 0)', async () => {
    const clock = virtualClock();
    const admission = createAdmission(() => 0);
    const { started } = enterMany(admission, clock, 100, { ...limits, burst: 0 });
    await clock.advance(0);
    expect(started).toEqual(firstN(100));
    expect(admission.rate).toBeNull();
  });

  it('lets a burst in 64 at a time: the rest wait, and start in arrival order as requests are answered', async () => {
    const clock = virtualClock();
    const admission = createAdmission(() => 0);
    const { started } = enterMany(admission, clock, 100);
    await clock.advance(0);
    expect(started).toEqual(firstN(64));
    expect(admission.rate).not.toBeNull();

    // Ten answers let the next ten in (the clock adds at most one more in the 200 ms their naps take).
    for (let i = 0; i < 10; i++) admission.finished(clock.now());
    await clock.advance(200);
    expect(started.length).toBeGreaterThanOrEqual(74);
    expect(started.length).toBeLessThanOrEqual(76);
    expect(sorted(started)).toEqual(firstN(started.length));

    // Every one starts in the end, none shed.
    for (let i = 0; i < 40; i++) admission.finished(clock.now());
    await clock.advance(1000);
    expect(sorted(started)).toEqual(firstN(100));
  });

  it('sheds no request on arrival, however long the line; sheds each one whose longest wait is up, passing its ticket over', async () => {
    let queueing = 1000; // the calls queue far above the target
    const clock = virtualClock();
    const admission = createAdmission(() => queueing);
    const tight = { targetMs: 200, maxWaitMs: 150, burst: 64 };
    const { started, results } = enterMany(admission, clock, 100, tight);
    await clock.advance(0);
    expect(admission.rate).not.toBeNull();
    // A shed client in a closed loop would come straight back: every one waits its turn instead.
    expect(results.filter((r) => r !== undefined)).toEqual([]);

    // Nothing is answered; the clock alone (10 a second) lets the first in, and at 150 ms the other 99
    // are shed, each told how much longer it would have waited.
    await clock.advance(300);
    expect(started).toEqual([0]);
    const shed = results.filter((r) => r !== undefined && 'shedMs' in r) as { shedMs: number }[];
    expect(shed).toHaveLength(99);
    for (const r of shed) expect(r.shedMs).toBeGreaterThan(0);

    // Their tickets are passed over: the next answer lets a new request in, not one of theirs.
    queueing = 0;
    await clock.advance(100); // the next adjustment sees the calls no longer queueing
    const late = enterMany(admission, clock, 1, tight);
    await clock.advance(0);
    admission.finished(clock.now());
    await clock.advance(10);
    expect(late.started).toEqual([0]);
  });

  it('lets tickets through by the clock too, so a waiter whose client left blocks nobody', async () => {
    const clock = virtualClock();
    const admission = createAdmission(() => 1000);
    // The first waiter's request is cancelled: its timer never fires again.
    void admission.enter(limits, { now: clock.now, sleep: () => new Promise(() => {}) });
    let second: Admitted | undefined;
    void admission.enter(limits, clock).then((a) => {
      second = a;
    });
    await clock.advance(50);
    expect(second).toBeUndefined();
    // No request is answered, yet the clock (10 a second at its slowest) lets the second in.
    await clock.advance(250);
    expect(second).toMatchObject({ waitedMs: expect.any(Number) });
  });

  it('drains while the calls queue: nine in for every ten answered, until they stop queueing', async () => {
    let queueing = 1000;
    const clock = virtualClock();
    const admission = createAdmission(() => queueing);
    const { started } = enterMany(admission, clock, 40);
    await clock.advance(0);
    expect(started).toEqual([]);
    // Twenty answers let 18 in (the clock adds 0.5 in the 50 ms their naps take).
    for (let i = 0; i < 20; i++) admission.finished(clock.now());
    await clock.advance(50);
    expect(sorted(started)).toEqual(firstN(18));

    // The calls stop queueing: once nobody waits, requests start at once again.
    queueing = 0;
    for (let i = 0; i < 40; i++) admission.finished(clock.now());
    await clock.advance(2000);
    expect(started.length).toBe(40);
    expect(await admission.enter(limits, clock)).toEqual({ waitedMs: 0 });
    expect(admission.rate).toBeNull();
  });
});
