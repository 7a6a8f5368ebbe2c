/**
 * One invocation's outbound connections. Workers lets an invocation have six connections waiting for
 * response headers; a seventh is queued by the runtime, invisibly, while any timer started for it
 * runs (`wrangler dev` does not enforce this). Every outbound call goes through one pool per
 * invocation instead, so the queue is ours: a call waits for a slot, and its timeout starts when it is
 * sent, never while it waits.
 *
 * @example
 * const connections = createConnectionPool();
 * redis.use((req, next) => (invocationPool() ?? connections).run(() => next(req), null, 'store'));
 * const openai = new OpenAI({ fetch: connections.fetch(30_000), timeout: QUEUED_CALL_BACKSTOP_MS });
 * await withInvocationPool(connections, () => handle(request));
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Workers' limit of simultaneous outbound connections per invocation. */
export const WORKERS_CONNECTION_LIMIT = 6;

/**
 * The SDK timeout of a pooled OpenAI client. The SDK starts its timer before its fetch is called, so it
 * would count time spent queued: the pool's fetch enforces the real per-attempt timeout from the moment
 * of sending, and this only bounds a call that waits for a slot absurdly long.
 */
export const QUEUED_CALL_BACKSTOP_MS = 30 * 60_000;

/** `store`: a Redis call, short and on every path; `upstream`: a provider or webhook call. */
export type Lane = 'store' | 'upstream';

export interface ConnectionPool {
  /** Runs `work` (one outbound request, body read included) once a slot of `lane` is free. @default lane 'upstream' */
  run<T>(work: () => Promise<T>, signal?: AbortSignal | null, lane?: Lane): Promise<T>;
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
  // A timer set and cleared, not AbortSignal.timeout: that signal would also cut the body, and disarming
  // it takes an abort listener, dearer in workerd (about 4 µs) than the timer pair (about 1 µs).
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

/**
 * A pool of `limit` slots in two lanes. `store` calls (Redis: milliseconds each) go first and may take
 * any free slot; `upstream` calls (a provider, a webhook: up to minutes until their headers) take at
 * most `limit - 1`, so one slot is always left for the store. Without that, fifty queued images would
 * hold every slot for minutes while a lease renewal or a settle waited behind them.
 */
export function createConnectionPool(limit = WORKERS_CONNECTION_LIMIT): ConnectionPool {
  if (!Number.isInteger(limit) || limit < 2)
    throw new RangeError(`limit must be an integer of at least 2, got ${limit}`);
  return new SlotPool(limit);
}

// A class, not an object literal with getters: a literal's getter is a new closure on every request,
// which V8 kept, with the pool and everything its closures reached, past every young-generation
// collection until a full one (measured: scripts/lint/literal-accessor.grit).
class SlotPool implements ConnectionPool {
  readonly #limit: number;
  readonly #active: Record<Lane, number> = { store: 0, upstream: 0 };
  readonly #waiting: Record<Lane, { grant: () => void }[]> = { store: [], upstream: [] };

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active.store + this.#active.upstream;
  }
  get queued(): number {
    return this.#waiting.store.length + this.#waiting.upstream.length;
  }

  async run<T>(work: () => Promise<T>, signal?: AbortSignal | null, lane: Lane = 'upstream'): Promise<T> {
    await this.#acquire(lane, signal);
    try {
      return await work();
    } finally {
      this.#release(lane);
    }
  }

  fetch(timeoutMs?: number): typeof fetch {
    return (input, init) => this.run(() => timedFetch(input, init, timeoutMs), init?.signal);
  }

  #fits(lane: Lane): boolean {
    return this.active < this.#limit && (lane === 'store' || this.#active.upstream < this.#limit - 1);
  }

  #acquire(lane: Lane, signal?: AbortSignal | null): Promise<void> {
    signal?.throwIfAborted();
    const waiting = this.#waiting;
    if (this.#fits(lane) && (lane === 'store' || !waiting.store.length)) {
      this.#active[lane] += 1;
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
        waiting[lane].splice(waiting[lane].indexOf(entry), 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiting[lane].push(entry);
    });
  }

  #release(lane: Lane): void {
    this.#active[lane] -= 1;
    // Hand freed slots on: the store's queue first, then upstream calls while they fit.
    for (const next of ['store', 'upstream'] as const) {
      while (this.#waiting[next].length && this.#fits(next)) {
        this.#active[next] += 1;
        this.#waiting[next].shift()?.grant();
      }
    }
  }
}

/** The pool of the invocation an async flow belongs to (nodejs_als): set once, at its entry. */
const invocationPools = new AsyncLocalStorage<ConnectionPool>();

/**
 * Runs `work` as the invocation whose outbound calls `pool` holds: a client the isolate shares (its
 * Redis client) finds the pool of the invocation calling it with `invocationPool()`, in whatever
 * callback or promise continuation the call comes from.
 */
export function withInvocationPool<T>(pool: ConnectionPool, work: () => T): T {
  return invocationPools.run(pool, work);
}

/** The calling invocation's pool; undefined outside `withInvocationPool` (a test driving a module alone). */
export function invocationPool(): ConnectionPool | undefined {
  return invocationPools.getStore();
}
