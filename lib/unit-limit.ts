/**
 * Work per minute per key. Requests per minute alone let one request carry a thousand items; so each
 * request that reserves budget also takes its units from a token bucket of `upm` units that refills
 * continuously at `upm` a minute (@upstash/ratelimit's, which refuses a request larger than what is
 * left without taking any of it; its sliding window would take them anyway): an item of a batch,
 * an embedding input, an image, or a thousand tokens as reserved (input estimate + output cap). A cache
 * hit reserves nothing and takes no units. Units are taken alongside the reservation, in its round trip;
 * when the budget then refuses, the units stay taken (the safe direction). Like the request limit it
 * fails open when Redis cannot answer: the budget, which fails closed, still bounds spend.
 */
import { Ratelimit } from '@upstash/ratelimit';
import { RateLimitError, RequestTooLargeError } from './errors';
import { sharedLimiter } from './limiters';
import type { Logger } from './log';
import { type Redis, redisKey } from './store';

export interface UnitLimitDeps {
  redis: Redis;
  now: () => number;
  log: Pick<Logger, 'warn'>;
}

/** What a request took: for the `x-ratelimit-*-units` headers. */
export interface UnitsTaken {
  limit: number;
  remaining: number;
}

/**
 * Takes `units` from the key's window of `upm` per minute.
 * @throws RequestTooLargeError (413 `units_exceed_limit`) when `units` alone exceed `upm`: no wait helps.
 * @throws RateLimitError (429 `unit_limit_exceeded`, with Retry-After) when the window has no room now.
 */
export async function takeUnits(
  deps: UnitLimitDeps,
  key: { id: string; upm: number },
  units: number,
): Promise<UnitsTaken | undefined> {
  if (units <= 0) return undefined;
  if (units > key.upm) {
    throw new RequestTooLargeError({
      code: 'units_exceed_limit',
      message: `This request needs ${units} units of work; this key may start ${key.upm} per minute. Split it, or ask for a higher \`upm\`.`,
    });
  }
  // No ephemeral cache: a refused large request must not block the small ones that still fit.
  const limiter = sharedLimiter(
    deps.redis,
    undefined,
    `units:${key.upm}`,
    () =>
      new Ratelimit({
        redis: deps.redis,
        limiter: refilling(key.upm),
        prefix: redisKey('rl', 'units'),
        // Said outright: left unset, the library remembers denials in a cache of its own, which a
        // limiter shared by the isolate would keep.
        ephemeralCache: false,
        // No timer of its own: the Redis client's REDIS_TIMEOUT_MS aborts the call, and it fails open below.
        timeout: 0,
        enableTelemetry: false,
      }),
  );
  let decision: Awaited<ReturnType<Ratelimit['limit']>>;
  try {
    // Its `pending` is already resolved (lib/limiters.ts): nothing to wait for after the response.
    decision = await limiter.limit(key.id, { rate: units });
    if (decision.reason === 'timeout') throw new Error('unit limit timed out');
  } catch (err) {
    deps.log.warn('unit limit unavailable; request allowed', { cause: err });
    return undefined;
  }
  if (!decision.success) {
    // The time the bucket takes to refill this request's units: by then it fits, whatever is left now.
    const retryAfter = Math.max(1, Math.ceil((units * 60) / key.upm));
    throw new RateLimitError({
      code: 'unit_limit_exceeded',
      message: `This request needs ${units} units of work, more than this key has left of its ${key.upm} per minute; retry in ${retryAfter} s.`,
      retryAfter,
    });
  }
  return { limit: key.upm, remaining: Math.max(0, decision.remaining) };
}

/** A bucket of `upm` that refills at exactly `upm` a minute: `upm/g` units every `60,000/g` ms, g their gcd. */
function refilling(upm: number) {
  const g = gcd(upm, 60_000);
  return Ratelimit.tokenBucket(upm / g, `${60_000 / g} ms`, upm);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
