/**
 * The isolate's Redis calls, at most `limit` in flight at once, the rest waiting. One isolate serves
 * many requests at a time; sent all at once under overload, their calls would queue where the isolate
 * cannot see them (sockets, the database) and time out there, the work wasted. Held here, each call's
 * timeout starts only when it is sent, and the age of the oldest waiting call says when the isolate
 * has more work than it can serve in time: then new requests are shed (lib/app.ts) before they add
 * to it.
 *
 * A waiter looks for a free slot on its own timer, never woken by another request's call ending: in
 * Workers a promise resolved from another request's context runs on in that context, whose end
 * cancels it (a call left holding its slot for good). Waiting is in arrival order only roughly.
 */

export interface StoreGate {
  /** Runs `work` (one Redis REST call) once fewer than `limit` are in flight. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** How long the oldest waiting call has waited, in ms (0 when none waits). */
  queueDelayMs(now: number): number;
  readonly active: number;
  readonly queued: number;
}

/** How long a waiter sleeps between looks: longer as more wait, so a long queue costs little CPU. */
const pollMs = (queued: number) => Math.min(20, 1 + Math.floor(queued / 16));

export function createStoreGate(
  limit: number,
  now: () => number = Date.now,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): StoreGate {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  let active = 0;
  /** Waiters in arrival order; `done` once they got their slot (dropped from the front lazily). */
  const waiting: { since: number; done: boolean }[] = [];
  let head = 0;
  let queued = 0;

  const oldest = () => {
    while (head < waiting.length && waiting[head]?.done) head += 1;
    if (head > 1024 && head * 2 > waiting.length) {
      waiting.splice(0, head);
      head = 0;
    }
    return waiting[head];
  };

  return {
    async run(work) {
      if (active >= limit) {
        const entry = { since: now(), done: false };
        waiting.push(entry);
        queued += 1;
        try {
          while (active >= limit) await sleep(pollMs(queued));
        } finally {
          entry.done = true;
          queued -= 1;
        }
      }
      active += 1;
      try {
        return await work();
      } finally {
        active -= 1;
      }
    },
    queueDelayMs(at) {
      const first = oldest();
      return first ? Math.max(0, at - first.since) : 0;
    },
    get active() {
      return active;
    },
    get queued() {
      return queued;
    },
  };
}
