/**
 * One invocation's outbound connections. Workers lets an invocation have six connections waiting for
 * response headers; a seventh is queued by the runtime, invisibly, while any timer started for it
 * runs (`wrangler dev` does not enforce this). Every outbound call goes through one pool per
 * invocation instead, so the queue is ours: a call waits for a slot, and its timeout starts when it is
 * sent, never while it waits.
 *
 * @example
 * const connections = createConnectionPool();
 * redis.use((req, next) => connections.run(() => next(req)));
 * const openai = new OpenAI({ fetch: connections.fetch(30_000), timeout: QUEUED_CALL_BACKSTOP_MS });
 */

/** Workers' limit of simultaneous outbound connections per invocation. */
export const WORKERS_CONNECTION_LIMIT = 6;

/**
 * The SDK timeout of a pooled OpenAI client. The SDK starts its timer before its fetch is called, so it
 * would count time spent queued: the pool's fetch enforces the real per-attempt timeout from the moment
 * of sending, and this only bounds a call that waits for a slot absurdly long.
 */
export const QUEUED_CALL_BACKSTOP_MS = 30 * 60_000;

export interface ConnectionPool {
  /** Runs `work` (one outbound request, body read included) once a slot is free. */
  run<T>(work: () => Promise<T>, signal?: AbortSignal | null): Promise<T>;
  /**
   * A fetch that waits for a slot, then sends with `timeoutMs` (if given) counted from that moment. The
   * slot is freed when the response headers arrive, as Workers frees it; a timeout aborts the request.
   */
  fetch(timeoutMs?: number): typeof fetch;
  /** Calls holding a slot, and waiting for one (for tests and logs). */
  readonly active: number;
  readonly queued: number;
}

/**
 * `fetch` aborted if its headers take longer than `timeoutMs` from now. Like the SDK's own timeout it
 * stops at the headers: a long stream is not cut by it.
 */
async function timedFetch(input: Request | string | URL, init: RequestInit | undefined, timeoutMs?: number) {
  if (timeoutMs === undefined) return fetch(input, init);
  const timer = new AbortController();
  const timeout = setTimeout(
    () => timer.abort(new DOMException(`No response headers in ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const signal = init?.signal ? AbortSignal.any([init.signal, timer.signal]) : timer.signal;
  try {
    return await fetch(input, { ...init, signal });
  } finally {
    clearTimeout(timeout);
  }
}

/** A pool of `limit` slots, first come first served. */
export function createConnectionPool(limit = WORKERS_CONNECTION_LIMIT): ConnectionPool {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  let active = 0;
  const waiting: { grant: () => void }[] = [];

  function acquire(signal?: AbortSignal | null): Promise<void> {
    signal?.throwIfAborted();
    if (active < limit) {
      active += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      // A caller that gives up while queued leaves the queue without ever taking a slot.
      const onAbort = () => {
        waiting.splice(waiting.indexOf(entry), 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiting.push(entry);
    });
  }

  function release(): void {
    // The slot passes straight to the next caller, so `active` never dips below what is in use.
    const next = waiting.shift();
    if (next) next.grant();
    else active -= 1;
  }

  async function run<T>(work: () => Promise<T>, signal?: AbortSignal | null): Promise<T> {
    await acquire(signal);
    try {
      return await work();
    } finally {
      release();
    }
  }

  return {
    run,
    fetch(timeoutMs) {
      return (input, init) => run(() => timedFetch(input, init, timeoutMs), init?.signal);
    },
    get active() {
      return active;
    },
    get queued() {
      return waiting.length;
    },
  };
}
