/**
 * Request guards as Hono middleware: who is calling (a client key or the admin key) and whether they
 * may call now (a per-key sliding window). Authentication fails closed; the rate limit fails open
 * when Redis is unreachable (the budget, which fails closed, still bounds spend) and logs it.
 */
import { Ratelimit } from '@upstash/ratelimit';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './app';
import { AuthenticationError, PermissionDeniedError, RateLimitError, StoreUnavailableError } from './errors';
import { lookupKey } from './keys';
import { redisKey } from './store';

/** Who a request acts for. The admin key is a principal too, with the gateway defaults. */
export interface Principal {
  kind: 'key' | 'admin';
  /** Key id, or `admin`. Tenants, rate limits and per-key budgets hang off it. */
  id: string;
  name: string;
  /** Requests per minute this principal may make. */
  rpm: number;
  /** Its own daily budget in USD, if it has one. */
  dailyBudgetUsd: number | null;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Requires a client key or the admin key; sets `principal`. */
export function requireKey(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('principal', await authenticate(c));
    await next();
  };
}

/** Requires the admin key (`ADMIN_API_KEY`). */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = await authenticate(c);
    if (principal.kind !== 'admin') {
      throw new PermissionDeniedError({ message: 'This endpoint needs the admin key.' });
    }
    c.set('principal', principal);
    await next();
  };
}

async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const presented = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  if (!presented) {
    throw new AuthenticationError({ message: 'Send your gateway key as `Authorization: Bearer <key>`.' });
  }
  const env = c.get('env');
  if (env.ADMIN_API_KEY && (await sameSecret(presented, env.ADMIN_API_KEY))) {
    return { kind: 'admin', id: 'admin', name: 'admin', rpm: env.KEY_RATE_LIMIT_RPM, dailyBudgetUsd: null };
  }
  let record: Awaited<ReturnType<typeof lookupKey>>;
  try {
    record = await lookupKey(c.get('deps').redis, presented);
  } catch (err) {
    throw new StoreUnavailableError({
      message: 'Cannot check the API key right now; retry shortly.',
      cause: err,
    });
  }
  if (!record) throw new AuthenticationError({ message: 'Invalid or revoked API key.' });
  return {
    kind: 'key',
    id: record.id,
    name: record.name,
    rpm: record.rpm ?? env.KEY_RATE_LIMIT_RPM,
    dailyBudgetUsd: record.daily_budget_usd,
  };
}

/** Compares two secrets in constant time: equal-length digests, then timingSafeEqual. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const digest = (s: string) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  const [da, db] = await Promise.all([digest(a), digest(b)]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/**
 * The principal's sliding-window limit (@upstash/ratelimit). Allowed and denied responses carry
 * `x-ratelimit-limit`, `-remaining` and `-reset` (seconds); a denial is `429 rate_limit_exceeded` with
 * `Retry-After`. Denials are remembered in the isolate (`ephemeralCache`) until the window resets.
 */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    const { redis, ratelimitCache, now } = c.get('deps');
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(principal.rpm, '60 s'),
      prefix: redisKey('rl', 'key'),
      ephemeralCache: ratelimitCache,
      timeout: c.get('env').REDIS_TIMEOUT_MS,
      enableTelemetry: false,
    });
    let result: Awaited<ReturnType<typeof limiter.limit>>;
    try {
      result = await limiter.limit(principal.id);
    } catch (err) {
      c.get('log').warn('rate limit unavailable; request allowed', { cause: err });
      return next();
    }
    c.executionCtx.waitUntil(result.pending);
    if (result.reason === 'timeout') {
      c.get('log').warn('rate limit timed out; request allowed');
      return next();
    }
    const resetSeconds = Math.max(0, Math.ceil((result.reset - now()) / 1000));
    c.header('x-ratelimit-limit', String(result.limit));
    c.header('x-ratelimit-remaining', String(Math.max(0, result.remaining)));
    c.header('x-ratelimit-reset', String(resetSeconds));
    if (!result.success) {
      throw new RateLimitError({
        message: `Rate limit of ${result.limit} requests per minute reached; retry in ${Math.max(1, resetSeconds)} s.`,
        retryAfter: Math.max(1, resetSeconds),
      });
    }
    await next();
  };
}

/**
 * Protection by default: every route needs a key except `publicPaths`, and `/admin/*` needs the
 * admin key. A route added later is protected without anyone remembering to protect it.
 */
export function protect(publicPaths: ReadonlySet<string>): MiddlewareHandler<AppEnv> {
  const client = requireKey();
  const limit = rateLimit();
  const admin = requireAdmin();
  return async (c, next) => {
    if (publicPaths.has(c.req.path)) return next();
    if (c.req.path === '/admin' || c.req.path.startsWith('/admin/')) return admin(c, next);
    await client(c, async () => {
      await limit(c, next);
    });
  };
}
