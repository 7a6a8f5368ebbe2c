import type { Env } from './env';
import { createPriceTable, type PriceTable } from './pricing';

/** Settings derived from env that cost something to build; built once per env object. */
export interface Config {
  prices: PriceTable;
}

const built = new WeakMap<Env, Config>();

/**
 * The derived configuration for `env`.
 * @throws ConfigError when PRICING_OVERRIDES does not describe usable prices.
 */
export function configOf(env: Env): Config {
  const hit = built.get(env);
  if (hit) return hit;
  const config: Config = { prices: createPriceTable(env.PRICING_OVERRIDES) };
  built.set(env, config);
  return config;
}
