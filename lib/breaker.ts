/**
 * A circuit breaker per provider and model whose state lives in one Redis hash, so every isolate sees
 * the same trips. Closed → open after `failureThreshold` consecutive failures; open refuses calls for
 * `openSeconds`; then half-open lets exactly one probe through (atomically, across isolates) under a
 * lease of `probeLeaseMs`. The probe's success closes the breaker; its failure opens it again. A 429
 * rate_limit_exceeded is no failure: it makes every caller wait as long as the provider said (`throttle`).
 *
 * Each `acquire` and `record` is one script run, so one Redis round trip; a success on a healthy
 * breaker costs none. Time is the caller's `now()`, sent to the script, so tests can drive it. Keys
 * expire a day after their last change, and a missing key is a closed breaker.
 *
 * Fails OPEN: when Redis is slow, down or erroring, `acquire` allows the call (`degraded: true`) and
 * `record` logs and carries on. The breaker is advisory; the budget is what fails closed.
 *
 * @example
 * const breaker = createBreaker(deps, { failureThreshold: env.OPENAI_CIRCUIT_BREAKER_FAILURES });
 * const permit = await breaker.acquire(`openai:${model}`);
 * if (!permit.allowed) throw new CircuitOpenError({ message: '…', retryAfter: permit.retryAfterSeconds });
 * try {
 *   const result = await call();
 *   c.executionCtx.waitUntil(breaker.record(`openai:${model}`, permit, 'success'));
 *   return result;
 * } catch (error) {
 *   if (countsAgainstProvider(error)) await breaker.record(`openai:${model}`, permit, 'failure');
 *   throw error;
 * }
 */
import { type BreakerOptions, resolveOptions } from './breaker-options';
import type { Logger } from './log';
import { BREAKER_ACQUIRE, BREAKER_RECORD } from './scripts/breaker';
import { runScript } from './scripts/run';
import { type Redis, redisKey } from './store';

export type BreakerState = 'closed' | 'open' | 'half_open';

export type BreakerPermit =
  | {
      allowed: true;
      probe: boolean;
      state: BreakerState;
      /** Redis could not be asked; the call is allowed because the breaker fails open. */
      degraded?: boolean;
      /** Consecutive failures acquire saw; 0 lets `record` skip Redis for a success. */
      failures?: number;
      /** Set when `probe`: the lease this call holds. Pass the permit back to `record` unchanged. */
      probeId?: string;
    }
  | {
      allowed: false;
      state: BreakerState;
      retryAfterSeconds: number;
      /** Refused because the provider rate-limited this account (it is up; wait), not because it is down. */
      throttled?: true;
    };

export interface Breaker {
  /**
   * Asks to make one call through `name`; a probe holds the half-open breaker for `probeLeaseMs`
   * (default: the breaker's option), the longest that call may take. Never rejects: without Redis it
   * allows, degraded.
   */
  acquire(name: string, options?: { probeLeaseMs?: number }): Promise<BreakerPermit>;
  /**
   * Reports how that call went; `permit` is what acquire returned. `release` reports no outcome (the
   * call was not made, or ended without the provider answering): a probe gives its lease up without
   * closing or re-opening the breaker. `throttle` is a release that also refuses every caller of `name`
   * for `waitMs` (the provider's 429 rate_limit_exceeded: it is up, this account must wait). Returns the
   * state after (without Redis, the permit's state). Never rejects.
   */
  record(
    name: string,
    permit: BreakerPermit & { allowed: true },
    outcome: 'success' | 'failure' | 'release' | 'throttle',
    waitMs?: number,
  ): Promise<BreakerState>;
  /** Current state, for /health and metrics (read-only). Rejects when Redis cannot be reached. */
  inspect(name: string): Promise<{ state: BreakerState; failures: number; retryAfterSeconds: number }>;
}

/**
 * Whether recording `outcome` for `permit` would change nothing, so `record` sends no command and a
 * caller need not keep the invocation alive for it. A success on a healthy breaker: it stays as it is
 * (failures recorded since acquire by other calls are not reset by it; that only errs toward opening,
 * and saves a round trip). A release of a permit that is no probe: only a probe holds a lease to give
 * back.
 */
export function recordsNothing(
  permit: BreakerPermit & { allowed: true },
  outcome: 'success' | 'failure' | 'release' | 'throttle',
): boolean {
  if (outcome === 'success') return permit.state === 'closed' && permit.failures === 0;
  return outcome === 'release' && !permit.probe;
}

export interface BreakerDeps {
  redis: Pick<Redis, 'evalsha' | 'eval' | 'hmget'>;
  /** Milliseconds since the epoch; every isolate's clock decides with the same stored deadlines. */
  now: () => number;
  log?: Pick<Logger, 'warn'>;
}

// Long enough that an idle breaker's history stops mattering, and never shorter than an open window.
const IDLE_TTL_SECONDS = 86_400;
// Script replies encode the state as an index into this list.
const STATES: readonly BreakerState[] = ['closed', 'open', 'half_open'];

const toSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Builds the breaker over `deps.redis`. Cheap: build one per request with that request's client.
 * @throws RangeError for options that cannot work (a threshold below 1, a non-positive window or lease).
 */
export function createBreaker(deps: BreakerDeps, options: Partial<BreakerOptions> = {}): Breaker {
  const { failureThreshold, openSeconds, probeLeaseMs } = resolveOptions(options);
  const openMs = Math.round(openSeconds * 1000);
  const ttlSeconds = IDLE_TTL_SECONDS + Math.ceil(openSeconds);
  const { redis, now, log } = deps;

  return {
    async acquire(name, { probeLeaseMs: lease = probeLeaseMs } = {}) {
      const probeId = crypto.randomUUID();
      try {
        const [code, allowed, failures, waitMs, throttled] = await runScript<
          [number, number, number, number, number]
        >(redis, BREAKER_ACQUIRE, [redisKey('breaker', name)], [now(), probeId, lease, ttlSeconds]);
        const state = STATES[code] ?? 'closed';
        if (!allowed) {
          const refusal = { allowed: false as const, state, retryAfterSeconds: toSeconds(waitMs) };
          return throttled ? { ...refusal, throttled: true } : refusal;
        }
        if (state === 'half_open') return { allowed: true, probe: true, state, failures, probeId };
        return { allowed: true, probe: false, state, failures };
      } catch (error) {
        log?.warn('breaker store unavailable; allowing the call', { breaker: name, error });
        return { allowed: true, probe: false, state: 'closed', degraded: true, failures: 0 };
      }
    },

    async record(name, permit, outcome, waitMs = 0) {
      if (recordsNothing(permit, outcome)) return permit.state;
      try {
        const [code] = await runScript<[number, number]>(
          redis,
          BREAKER_RECORD,
          [redisKey('breaker', name)],
          [
            now(),
            outcome,
            permit.probe ? (permit.probeId ?? '') : '',
            failureThreshold,
            openMs,
            ttlSeconds,
            Math.max(0, Math.round(waitMs)),
          ],
        );
        return STATES[code] ?? 'closed';
      } catch (error) {
        log?.warn('breaker store unavailable; outcome not recorded', { breaker: name, outcome, error });
        return permit.state;
      }
    },

    async inspect(name) {
      const fields = await redis.hmget<Record<string, unknown>>(
        redisKey('breaker', name),
        'state',
        'failures',
        'open_until',
        'probe_until',
      );
      const at = now();
      const failures = Number(fields?.failures ?? 0);
      if (fields?.state !== 'open') return { state: 'closed', failures, retryAfterSeconds: 0 };
      const openUntil = Number(fields.open_until ?? 0);
      if (at < openUntil) return { state: 'open', failures, retryAfterSeconds: toSeconds(openUntil - at) };
      const probeUntil = Number(fields.probe_until ?? 0);
      const retryAfterSeconds = at < probeUntil ? toSeconds(probeUntil - at) : 0;
      return { state: 'half_open', failures, retryAfterSeconds };
    },
  };
}
