import { Ratelimit } from '@upstash/ratelimit';
import type { Deps } from '../deps';
import type { Env } from '../env';
import { hashKey } from '../keys';
import { sharedLimiter } from '../limiters';
import type { Logger } from '../log';
import { redisKey } from '../store';
import type { ProviderTarget } from './targets';

/**
 * OPENAI_RATE_LIMIT_RPM for the whole gateway, so all isolates together stay inside the OpenAI
 * account's limit. Applies to the primary only (backups have their own accounts); fails open.
 */
export function upstreamGuard(scope: {
  env: Env;
  deps: Pick<Deps, 'redis' | 'ratelimitCache' | 'accountDigests' | 'now'>;
  log: Pick<Logger, 'warn'>;
}): (target: ProviderTarget) => Promise<number | undefined> {
  const { redis, ratelimitCache, accountDigests, now } = scope.deps;
  const rpm = scope.env.OPENAI_RATE_LIMIT_RPM;
  const limiter = sharedLimiter(
    redis,
    ratelimitCache,
    `upstream:${rpm}`,
    () =>
      new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(rpm, '60 s'),
        prefix: redisKey('rl', 'upstream'),
        ephemeralCache: ratelimitCache,
        // No timer of its own: the Redis client's REDIS_TIMEOUT_MS aborts the call (lib/request-limit.ts).
        timeout: 0,
        enableTelemetry: false,
      }),
  );
  return async (target) => {
    if (target.name !== 'openai') return undefined;
    try {
      // Keyed by the account (a digest of its API key): the limit belongs to the OpenAI account. The
      // digest is remembered, so later calls issue their command at once and share the breaker's trip.
      const apiKey = target.endpoint?.apiKey ?? target.client.apiKey ?? '';
      const account = accountDigests.get(apiKey) ?? (await hashKey(apiKey));
      accountDigests.set(apiKey, account);
      // Its `pending` is already resolved (lib/limiters.ts): nothing to wait for after the response.
      const result = await limiter.limit(`openai:${account}`);
      return result.success ? undefined : Math.max(1000, result.reset - now());
    } catch (err) {
      scope.log.warn('upstream rate limit unavailable; call allowed', { cause: err });
      return undefined;
    }
  };
}
