import { fail, isRecord, type ParseResult } from './parse-result.ts';

/**
 * The account side of a config: per-model rate limits (`rate_limits`) and the spend after which the key's
 * account is out of quota (`account_budget_usd`). See admission.ts for how they are enforced.
 */

/** One model's limits per minute; a field left out keeps its default. */
export interface SimRateLimit {
  /** Requests per minute. @default DEFAULT_RATE_LIMIT.rpm */
  rpm?: number;
  /** Tokens per minute (input estimate + output cap, see requested-tokens.ts). @default DEFAULT_RATE_LIMIT.tpm */
  tpm?: number;
}

/** Limits by model name; `*` applies to every model without its own entry. */
export type SimRateLimits = Record<string, SimRateLimit>;

/**
 * Every model's limits unless a config says otherwise: OpenAI's Launch tier (a mid-tier organisation) for
 * gpt-6.1-sol. Real limits differ per model and tier; these are generous enough that tests and drills on
 * the realistic profile only meet limits they set themselves.
 */
export const DEFAULT_RATE_LIMIT: Required<SimRateLimit> = { rpm: 10_000, tpm: 4_000_000 };

/** The limits of `model` under `limits`, field by field: its own entry's, else `*`'s, else the default. */
export function limitsFor(limits: SimRateLimits | undefined, model: string): Required<SimRateLimit> {
  const own = limits?.[model];
  const any = limits?.['*'];
  return {
    rpm: own?.rpm ?? any?.rpm ?? DEFAULT_RATE_LIMIT.rpm,
    tpm: own?.tpm ?? any?.tpm ?? DEFAULT_RATE_LIMIT.tpm,
  };
}

/** Validates `rate_limits`: model name (or `*`) → `{ rpm?, tpm? }`, positive integers, nothing else. */
export function parseRateLimits(input: unknown): ParseResult<SimRateLimits> {
  if (!isRecord(input)) return fail("rate_limits must be an object of model (or '*') → { rpm?, tpm? }");
  const limits: SimRateLimits = {};
  for (const [model, entry] of Object.entries(input)) {
    const at = `rate_limits['${model}']`;
    if (!model.trim()) return fail('rate_limits: a model name must not be empty');
    if (!isRecord(entry)) return fail(`${at} must be an object with 'rpm' and/or 'tpm'`);
    const unknown = Object.keys(entry).find((key) => key !== 'rpm' && key !== 'tpm');
    if (unknown) return fail(`${at}: unknown field '${unknown}' (expected rpm, tpm)`);
    if (entry.rpm === undefined && entry.tpm === undefined) return fail(`${at} must set 'rpm' and/or 'tpm'`);
    for (const field of ['rpm', 'tpm'] as const) {
      const value = entry[field];
      if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 1)) {
        return fail(`${at}.${field} must be a positive integer`);
      }
    }
    limits[model] = entry as SimRateLimit;
  }
  return { ok: true, value: limits };
}

/** Validates `account_budget_usd`: a non-negative, finite number of dollars. */
export function parseAccountBudget(input: unknown): ParseResult<number> {
  if (typeof input !== 'number' || !Number.isFinite(input) || input < 0) {
    return fail('account_budget_usd must be a non-negative number of dollars');
  }
  return { ok: true, value: input };
}
