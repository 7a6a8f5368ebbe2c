import type { Env } from './env';
import { createModerationRules, type ModerationRules } from './moderation';
import { createPriceTable, type PriceTable } from './pricing';

/** Settings derived from env that cost something to build; built once per env object. */
export interface Config {
  prices: PriceTable;
  moderation: ModerationRules;
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
  };
  built.set(env, config);
  return config;
}
