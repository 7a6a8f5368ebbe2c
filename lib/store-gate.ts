/**
 * The isolate's Redis calls, at most `limit` in flight at once, the rest waiting in order. One isolate
 * serves many requests at a time; sent all at once under overload, their calls would queue where the
 * isolate cannot see them (sockets, the database) and time out there, the work wasted. Queued here,
 * each call's timeout starts only when it is sent, and the queue's age says when the isolate has more
 * work than it can serve in time: then new requests are shed (lib/app.ts) before they add to it.
 */

export interface StoreGate {
  /** Runs `work` (one Redis REST call) once fewer than `limit` are in flight. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** How long the oldest waiting call has waited, in ms (0 when none waits). */
  queueDelayMs(now: number): number;
  readonly active: number;
  readonly queued: number;
}

export function createStoreGate(limit: number, now: () => number = Date.now): StoreGate {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  let active = 0;
  const waiting: { since: number; grant: () => void }[] = [];
  let head = 0;

  const release = () => {
    const next = waiting[head];
    if (next) {
      // Handed straight to the next in line: `active` stays as it is.
      waiting[head] = undefined as never;
      head += 1;
      if (head > 1024 && head * 2 > waiting.length) {
        waiting.splice(0, head);
        head = 0;
      }
      next.grant();
    } else {
      active -= 1;
    }
  };

  return {
    async run(work) {
      if (active < limit) active += 1;
      else await new Promise<void>((grant) => waiting.push({ since: now(), grant }));
      try {
        return await work();
      } finally {
        release();
      }
    },
    queueDelayMs(at) {
      const oldest = waiting[head];
      return oldest ? Math.max(0, at - oldest.since) : 0;
    },
    get active() {
      return active;
    },
    get queued() {
      return waiting.length - head;
    },
  };
}
