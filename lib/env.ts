import type { z } from 'zod';
import type { BackupProviderSpec } from './setting-specs.ts';
import { Settings } from './settings.ts';

/**
 * The parsed configuration: lib/settings.ts validated once per env object, the alert threshold
 * defaulted from the budget and each backup's key read from the secret it names.
 */
export const EnvSchema = Settings.transform((env) => ({
  ...env,
  OPENAI_ALERT_THRESHOLD_USD: env.OPENAI_ALERT_THRESHOLD_USD ?? env.OPENAI_DAILY_BUDGET_USD * 0.8,
})).refine((env) => env.OPENAI_ALERT_THRESHOLD_USD <= env.OPENAI_DAILY_BUDGET_USD, {
  path: ['OPENAI_ALERT_THRESHOLD_USD'],
  message: 'must not exceed OPENAI_DAILY_BUDGET_USD',
});

/** A backup provider with its key read from the secret it names. */
export type BackupProvider = BackupProviderSpec & { apiKey: string };

export type Env = z.output<typeof EnvSchema> & { backups: BackupProvider[] };

/** Thrown when the environment does not validate; `problems` name each variable and what is wrong. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const parsed = new WeakMap<object, Env>();

/**
 * Validates the raw Workers env once per env object (the runtime hands the same object to every
 * request of an isolate) and memoises the result.
 * @throws ConfigError naming every variable at fault; messages never include the values.
 */
export function parseEnv(raw: object): Env {
  const hit = parsed.get(raw);
  if (hit) return hit;
  const result = EnvSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`));
  }
  const env = { ...result.data, backups: resolveBackups(result.data.BACKUP_PROVIDERS, raw) };
  parsed.set(raw, env);
  return env;
}

/** Reads each backup's key from the secret it names; a backup without its key is a config error. */
function resolveBackups(specs: BackupProviderSpec[], raw: object): BackupProvider[] {
  const problems: string[] = [];
  const backups = specs.map((spec) => {
    const apiKey = (raw as Record<string, unknown>)[spec.api_key_env];
    if (typeof apiKey !== 'string' || !apiKey.trim()) {
      problems.push(`${spec.api_key_env}: is required by backup provider '${spec.name}'`);
    }
    return { ...spec, apiKey: String(apiKey ?? '').trim() };
  });
  const names = specs.map((s) => s.name);
  if (new Set([...names, 'openai']).size !== names.length + 1) {
    problems.push("BACKUP_PROVIDERS: names must be unique and not 'openai'");
  }
  if (problems.length) throw new ConfigError(problems);
  return backups;
}

/** Values that must never appear in a log line or a response. */
export function secretsOf(env: Env): string[] {
  let secrets = secretLists.get(env);
  if (!secrets) {
    secrets = listSecrets(env);
    secretLists.set(env, secrets);
  }
  return secrets;
}

/** Each env's secrets, listed once: every request's logger masks them. */
const secretLists = new WeakMap<Env, string[]>();

function listSecrets(env: Env): string[] {
  return [
    env.OPENAI_API_KEY,
    env.UPSTASH_REDIS_REST_TOKEN,
    ...(env.ADMIN_API_KEY ? [env.ADMIN_API_KEY] : []),
    ...(env.METRICS_SCRAPE_TOKEN ? [env.METRICS_SCRAPE_TOKEN] : []),
    ...env.backups.map((b) => b.apiKey),
  ];
}
