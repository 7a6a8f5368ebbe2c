/**
 * Who is calling, from the request alone: the bearer it presents, whether that is the admin key
 * (compared in constant time), the tenant a key names before Redis answers, and the principal a key
 * record makes. No Redis here.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import { AuthenticationError } from './errors';
import { keyBudgetUsd } from './key-policy';
import { hashKey, isKeyShaped, type KeyRecord, keyIdOf } from './keys';
import type { Principal } from './principal';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The tenant a request's key names, known before Redis answers: the key id derives from the key's
 * hash (`admin` for the admin key). Throws 401 for a missing or malformed key.
 */
export async function presentedTenant(c: Context<AppEnv>): Promise<string> {
  const presented = bearerOf(c);
  const adminKey = c.get('env').ADMIN_API_KEY;
  if (adminKey && (await sameSecret(presented, adminKey))) return 'admin';
  if (!isKeyShaped(presented)) throw new AuthenticationError({ message: 'Invalid or revoked API key.' });
  return keyIdOf(await hashKey(presented));
}

/** Whether the request carries the admin key: no Redis, and false (never a throw) without a bearer. */
export async function presentsAdminKey(c: Context<AppEnv>): Promise<boolean> {
  const presented = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  const adminKey = c.get('env').ADMIN_API_KEY;
  return !!presented && !!adminKey && (await sameSecret(presented, adminKey));
}

export function bearerOf(c: Context<AppEnv>): string {
  const presented = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  if (!presented) {
    throw new AuthenticationError({ message: 'Send your gateway key as `Authorization: Bearer <key>`.' });
  }
  return presented;
}

export function adminPrincipal(c: Context<AppEnv>): Principal {
  return {
    kind: 'admin',
    id: 'admin',
    name: 'admin',
    rpm: c.get('env').KEY_RATE_LIMIT_RPM,
    upm: c.get('env').KEY_RATE_LIMIT_UPM,
    dailyBudgetUsd: null,
    scopes: null,
    models: null,
  };
}

/** Compares two secrets in constant time: equal-length digests, then timingSafeEqual. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const digest = (s: string) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  const [da, db] = await Promise.all([digest(a), digest(b)]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** A client key's principal: its limits, its budget (its own or its share) and what it may call. */
export function keyPrincipal(c: Context<AppEnv>, record: KeyRecord): Principal {
  const env = c.get('env');
  return {
    kind: 'key',
    id: record.id,
    name: record.name,
    rpm: record.rpm ?? env.KEY_RATE_LIMIT_RPM,
    upm: record.upm ?? env.KEY_RATE_LIMIT_UPM,
    dailyBudgetUsd: keyBudgetUsd(record, env),
    scopes: record.scopes,
    models: record.models,
  };
}
