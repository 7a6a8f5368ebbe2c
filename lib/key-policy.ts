/**
 * What a client key may do, beyond being live: the route scopes it may call, the models it may name,
 * its daily budget (its own, or a share of the gateway's) and its work per minute. Keys created before
 * scopes existed have none stored and keep every scope, any model and the default share.
 */
import type { Env } from './env';
import { PermissionDeniedError } from './errors';

/** `domain`: opportunities, creatives, image analysis, match, moderate; `proxy`: /openai/v1/*; `bulk`: /v1/batches. */
export const KEY_SCOPES = ['domain', 'proxy', 'bulk'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

const DOMAIN_PATHS: ReadonlySet<string> = new Set([
  '/v1/opportunities',
  '/v1/creatives',
  '/v1/creatives/batch',
  '/v1/images/analyze',
  '/v1/match',
  '/v1/moderate',
]);

/** The scope a path needs; undefined for routes any live key may call (its own budget, say). */
export function scopeOfPath(path: string): KeyScope | undefined {
  if (path.startsWith('/openai/')) return 'proxy';
  if (path === '/v1/batches' || path.startsWith('/v1/batches/')) return 'bulk';
  return DOMAIN_PATHS.has(path) ? 'domain' : undefined;
}

/** What policy a principal carries: the admin key has every scope and any model. */
export interface KeyLimits {
  id: string;
  /** null: every scope. */
  scopes: readonly KeyScope[] | null;
  /** null: any model the gateway can price. */
  models: readonly string[] | null;
}

/** @throws PermissionDeniedError (403 `scope_not_allowed`) when `path` needs a scope the key lacks. */
export function checkScope(key: KeyLimits, path: string): void {
  const needed = scopeOfPath(path);
  if (!needed || !key.scopes || key.scopes.includes(needed)) return;
  throw new PermissionDeniedError({
    code: 'scope_not_allowed',
    message: `This key does not have the \`${needed}\` scope this endpoint needs; its scopes: ${key.scopes.join(', ') || 'none'}.`,
  });
}

/**
 * Whether the key may use `model`: it has no allow-list, or the list names the model or its price-table
 * entry (`entry`: a dated snapshot without its own price is priced, and allowed, as its base model).
 */
export function allowsModel(key: Pick<KeyLimits, 'models'>, model: string, entry?: string): boolean {
  return !key.models || key.models.includes(model) || (entry !== undefined && key.models.includes(entry));
}

/** @throws PermissionDeniedError (403 `model_not_allowed`) unless {@link allowsModel}. */
export function checkModel(key: KeyLimits, model: string, entry?: string): void {
  if (allowsModel(key, model, entry)) return;
  throw new PermissionDeniedError({
    code: 'model_not_allowed',
    param: 'model',
    message: `This key may not use model ${model}; it may use: ${(key.models ?? []).join(', ')}.`,
  });
}

/** A key's daily budget in USD: its own, else its share (or the configured default share) of the gateway's. */
export function keyBudgetUsd(
  record: { daily_budget_usd: number | null; budget_share: number | null },
  env: Pick<Env, 'OPENAI_DAILY_BUDGET_USD' | 'KEY_BUDGET_SHARE'>,
): number {
  if (record.daily_budget_usd !== null) return record.daily_budget_usd;
  const share = record.budget_share ?? env.KEY_BUDGET_SHARE;
  return Math.round(env.OPENAI_DAILY_BUDGET_USD * share * 1e6) / 1e6;
}

/** Units a reservation of `tokens` (input estimate + output cap) counts: one per started thousand. */
export function tokenUnits(tokens: number): number {
  return Math.max(1, Math.ceil(tokens / 1000));
}
