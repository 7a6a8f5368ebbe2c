/**
 * Who a request acts for, once admitted (guards.ts sets it; app.ts logs it, limits and budgets hang
 * off it). Its own module so the app and the guards that fill it need not import each other.
 */
import type { KeyScope } from './key-policy';

/** Who a request acts for. The admin key is a principal too, with the gateway defaults. */
export interface Principal {
  kind: 'key' | 'admin';
  /** Key id, or `admin`. Tenants, rate limits and per-key budgets hang off it. */
  id: string;
  name: string;
  /** Requests per minute this principal may make. */
  rpm: number;
  /** Units of work per minute it may start (see KEY_RATE_LIMIT_UPM). */
  upm: number;
  /** A client key's daily budget (its own or its share); null for the admin key (the gateway's only). */
  dailyBudgetUsd: number | null;
  /** Route scopes it may call; null: every scope. */
  scopes: readonly KeyScope[] | null;
  /** Models it may name; null: any. */
  models: readonly string[] | null;
}
