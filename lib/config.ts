import type { BreakerOptions } from './breaker-options';
import type { Env } from './env';
import { createModerationRules, type ModerationRules } from './moderation';
import { createPriceTable, type PriceTable } from './pricing';
import type { RetryPolicy } from './providers/retry';
import { probeLeaseMs } from './providers/timeouts';

/** Settings derived from env that cost something to build; built once per env object. */
export interface Config {
  prices: PriceTable;
  moderation: ModerationRules;
  /** The shared circuit breakers' settings. */
  breaker: BreakerOptions;
  /** Retries of one upstream call. */
  retry: RetryPolicy;
}

const built = new WeakMap<Env, Config>();

/**
 * The derived configuration for `env`.
 * @throws ConfigError when PRICING_OVERRIDES or MODERATION_RULES does not describe usable settings.
 */
export function configOf(env: Env): Config {
  const hit = built.get(env);
  if (hit) return hit;
  const config: Config = {
    prices: createPriceTable(env.PRICING_OVERRIDES),
    moderation: createModerationRules(env.MODERATION_RULES),
    breaker: {
      failureThreshold: env.OPENAI_CIRCUIT_BREAKER_FAILURES,
      openSeconds: env.OPENAI_CIRCUIT_BREAKER_TIMEOUT,
      // A probe may take a whole attempt; only after that may another isolate probe. This is the text
      // default: the router passes each call's own capability's lease.
      probeLeaseMs: probeLeaseMs(env.OPENAI_TIMEOUT_SECONDS * 1000),
    },
    retry: {
      maxRetries: env.OPENAI_MAX_RETRIES,
      baseDelayMs: env.OPENAI_RETRY_BASE_MS,
      maxDelayMs: env.OPENAI_RETRY_MAX_DELAY_MS,
    },
  };
  built.set(env, config);
  return config;
}
