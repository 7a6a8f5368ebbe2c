/**
 * The per-key request limit: a sliding window per key (@upstash/ratelimit), its decision shown in the
 * `x-ratelimit-*` headers. Fails open when Redis cannot answer (the budget, which fails closed, still
 * bounds spend) and logs it.
 */
import { Ratelimit } from '@upstash/ratelimit';
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import { RateLimitError } from './errors';
import { sharedLimiter } from './limiters';
import { redisKey } from './store';

const PREFIX = redisKey('rl', 'key');

/** A rate-limit decision; undefined when the limiter could not answer (the limit fails open). */
export type Decision = Awaited<ReturnType<Ratelimit['limit']>> | undefined;

/**
 * The caller's sliding-window limit (@upstash/ratelimit); denials are remembered in the isolate
 * (`ephemeralCache`) until the window resets. Never rejects: a Redis failure allows the request.
 */
export async function decide(c: Context<AppEnv>, identifier: string, rpm: number): Promise<Decision> {
  const { redis, ratelimitCache } = c.get('deps');
  const limiter = sharedLimiter(
    redis,
    ratelimitCache,
    `key:${rpm}`,
    () =>
      new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(rpm, '60 s'),
        prefix: PREFIX,
        ephemeralCache: ratelimitCache,
        // No timer of its own: the Redis client's REDIS_TIMEOUT_MS aborts the call, and the catch below
        // fails open (a timer and its clearing per request were 3 % of a cache hit's CPU in a profile).
        timeout: 0,
        enableTelemetry: false,
      }),
  );
  try {
    // Its `pending` is already resolved (lib/limiters.ts): nothing to wait for after the response.
    const result = await limiter.limit(identifier);
    if (result.reason === 'timeout') throw new Error('rate limit timed out');
    return result;
  } catch (err) {
    c.get('log').warn('rate limit unavailable; request allowed', { cause: err });
    return undefined;
  }
}

/** Whether this isolate remembers a denial of `identifier` that has not reset: no Redis needed to refuse it. */
export function deniedInIsolate(c: Context<AppEnv>, identifier: string): boolean {
  const until = c.get('deps').ratelimitCache.get(`${PREFIX}:${identifier}`);
  return until !== undefined && until > Date.now();
}

/**
 * Sets `x-ratelimit-limit`, `-remaining` and `-reset` (seconds) on allowed and denied responses alike;
 * a denial is `429 rate_limit_exceeded` with `Retry-After`.
 */
export function enforce(c: Context<AppEnv>, decision: Decision): void {
  if (!decision) return;
  const resetSeconds = Math.max(0, Math.ceil((decision.reset - c.get('deps').now()) / 1000));
  c.header('x-ratelimit-limit', String(decision.limit));
  c.header('x-ratelimit-remaining', String(Math.max(0, decision.remaining)));
  c.header('x-ratelimit-reset', String(resetSeconds));
  if (!decision.success) {
    throw new RateLimitError({
      message: `Rate limit of ${decision.limit} requests per minute reached; retry in ${Math.max(1, resetSeconds)} s.`,
      retryAfter: Math.max(1, resetSeconds),
    });
  }
}
