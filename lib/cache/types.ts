import type { Logger } from '../log';
import type { Redis } from '../store';
import type { CacheEntry } from './entry';

/**
 * HIT: served from the cache. MISS: this caller generated it (first, or after taking over a lease).
 * COALESCED: an identical request elsewhere generated it while this one waited. BYPASS: the cache was
 * not read (asked to bypass, or Redis failed: then `degraded` is set).
 */
export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS' | 'COALESCED';

export interface CacheOptions {
  /** How long an entry lives. @default 86_400 */
  ttlSeconds: number;
  /**
   * How long a leader's lease lasts without renewal: a live leader renews it every third of this, so
   * it bounds only how long the waiters of a dead leader wait before one takes over. @default 60_000
   */
  leaseMs: number;
  /** How often a waiting caller asks Redis again. @default 150 */
  pollMs: number;
  /**
   * The longest a caller waits for another's generation before failing with UpstreamTimeoutError: the
   * slowest generation, since a live leader's lease is renewed. At least `leaseMs + pollMs`, so a waiter
   * always outlives a dead leader's lease and can take over. @default leaseMs + 5_000
   */
  waitMs: number;
}

export interface CacheDeps {
  redis: Pick<Redis, 'evalsha' | 'eval' | 'get' | 'set'>;
  /** Milliseconds since the epoch. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** A random id with a type prefix; names a lease. */
  newId: (prefix: string) => string;
  log?: Pick<Logger, 'warn'>;
}

/**
 * The answer of one lookup. `lead`: this caller holds the lease and must finish it (getOrProduce does;
 * otherwise call `release`). `wait`: another caller leads. `unavailable`: Redis failed; the cache is
 * skipped for this request.
 */
export type CacheLookup<T> =
  | ({ kind: 'hit' } & CacheEntry<T>)
  | { kind: 'lead'; key: string; leaseId: string }
  | { kind: 'wait'; key: string; leaseLeftMs: number }
  | { kind: 'unavailable'; key: string; error: unknown };

/** What `produce` returns: only a cacheable (validated, approved) value is stored. */
export interface Produced<T> {
  value: T;
  cacheable: boolean;
  /** A shorter life than the cache's `ttlSeconds` for this value (e.g. one made on a degraded model). */
  ttlSeconds?: number;
}

export interface CacheResult<T> {
  value: T;
  status: CacheStatus;
  /** When the value was stored (ms since the epoch); absent when it was not stored. */
  cachedAt?: number;
  /** Redis failed along the way and the cache was skipped. */
  degraded?: true;
}

export interface GetOrProduceOptions<T> {
  /**
   * Skip the read, generate, and store the result (when cacheable) in place of any entry. Bypassing
   * callers neither wait for a leader nor take the lease: each one generates.
   */
  bypass?: boolean;
  /**
   * A `lookup(key)` already issued, e.g. in the same tick as auth and the rate limit so it shares
   * their HTTP request; it replaces getOrProduce's own first lookup.
   */
  first?: CacheLookup<T> | Promise<CacheLookup<T>>;
}

export interface Cache {
  /** Reads an entry with one GET. Null on a miss; fails open (null, logged) when Redis fails. */
  get<T>(key: string): Promise<CacheEntry<T> | null>;
  /**
   * Stores `value` with one SET, for `ttlSeconds` unless given. Fails open (logged) when Redis fails.
   * @throws TypeError (before any I/O) for a value with no JSON form.
   */
  set<T>(key: string, value: T, ttlSeconds?: number): Promise<void>;
  /**
   * One EVALSHA, issued synchronously (so it joins commands issued in the same tick): an entry, or the
   * lease, or word that another caller leads. Never rejects.
   */
  lookup<T>(key: string): Promise<CacheLookup<T>>;
  /**
   * Frees a lease `lookup` granted when the request will not generate after all (auth, rate limit or
   * budget refused it), so waiters need not sit out the lease. A no-op for other lookups; never rejects.
   */
  release(lookup: CacheLookup<unknown>): Promise<void>;
  /**
   * Stores `value` under `key` and frees the lease `held` holds (when it is that key's `lead`) in one
   * round trip: for a caller that produced the value itself (a relayed stream). Fails open (logged).
   */
  store<T>(key: string, value: T, held?: CacheLookup<unknown>): Promise<void>;
  /**
   * Cache-first with single-flight: a hit returns at once (HIT); otherwise one caller across all
   * isolates runs `produce` (MISS) while the others wait for its value (COALESCED). If the leader
   * fails, returns an uncacheable value or dies, the next waiter takes over. Errors are never cached.
   * @throws whatever `produce` throws; UpstreamTimeoutError after waiting `waitMs` for others.
   */
  getOrProduce<T>(
    key: string,
    produce: () => Promise<Produced<T>>,
    options?: GetOrProduceOptions<T>,
  ): Promise<CacheResult<T>>;
}
