/**
 * Client API keys. A key is shown once, at creation; Redis keeps only its SHA-256 with metadata, so
 * a leaked database does not leak usable keys. Every lookup reads Redis (no isolate cache), so a
 * revocation takes effect on the next request in every isolate. Lookups fail closed: without Redis
 * nobody is authenticated.
 */

import { toHex } from './hex';
import { KEY_SCOPES, type KeyScope } from './key-policy';
import { KEY_LOOKUP } from './scripts/keys';
import { runScript } from './scripts/run';
import { type Redis, redisKey } from './store';

export interface KeyRecord {
  id: string;
  name: string;
  /** ISO time of creation. */
  created_at: string;
  /** Requests per minute for this key; null means the gateway default. */
  rpm: number | null;
  /** Units of work per minute (see KEY_RATE_LIMIT_UPM); null means the gateway default. */
  upm: number | null;
  /** This key's own daily budget in USD; null means its share of the gateway's. */
  daily_budget_usd: number | null;
  /** Its share of the gateway's daily budget when it has no budget of its own; null means KEY_BUDGET_SHARE. */
  budget_share: number | null;
  /** The route scopes it may call; null means every scope (keys made before scopes existed). */
  scopes: KeyScope[] | null;
  /** The models it may name; null means any the gateway can price. */
  models: string[] | null;
  /** ISO time of revocation, or null while the key works. */
  revoked_at: string | null;
}

/** What an admin sets on a key: at creation, or changed later. */
export type KeySettings = Partial<Omit<KeyRecord, 'id' | 'created_at' | 'revoked_at'>>;
export type NewKey = KeySettings & { name: string };

/** The fields of a key's Redis hash. */
export const KEY_FIELDS = [
  'id',
  'name',
  'created_at',
  'rpm',
  'upm',
  'daily_budget_usd',
  'budget_share',
  'scopes',
  'models',
  'revoked_at',
] as const;
/**
 * Whether two records of a key say the same, field by field (lists item by item): a key looked up again
 * unchanged, so what was built for the one it was remembered as still holds.
 */
export function sameRecord(a: KeyRecord, b: KeyRecord): boolean {
  for (const field of KEY_FIELDS) {
    const x = a[field];
    const y = b[field];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  return true;
}

/** id → key hash, for listing and revoking by id. */
export const KEY_INDEX = redisKey('apikeys');
/** The Redis hash holding the record of the key with SHA-256 `hash`. */
export const keyRecordKey = (hash: string) => redisKey('apikey', hash);

export type KeysRedis = Pick<Redis, 'hmget' | 'hset' | 'hget' | 'hgetall' | 'pipeline'>;

/** SHA-256 of a key as hex: what Redis stores and what a lookup asks for. */
export async function hashKey(key: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
}

/** Whether a string has the shape of one of our keys; anything else is refused before Redis. */
export function isKeyShaped(key: string): boolean {
  return /^cag_[A-Za-z0-9_-]{43}$/.test(key);
}

/**
 * A key's id is derived from its hash, so a request knows its tenant (rate-limit identifier, cache
 * namespace, budget scope) before Redis answers, and can ask for all of them in one round trip.
 */
export function keyIdOf(hash: string): string {
  return `key_${hash.slice(0, 24)}`;
}

/**
 * The live record for a presented key (by its hash), or null when it is unknown or revoked: a tiny
 * script, issued in the same tick as the rate limit's so both travel in one batched request.
 */
export async function lookupKey(
  redis: Pick<Redis, 'evalsha' | 'eval'>,
  hash: string,
): Promise<KeyRecord | null> {
  const reply = await runScript<string | (string | null)[]>(
    redis,
    KEY_LOOKUP,
    [keyRecordKey(hash)],
    [...KEY_FIELDS],
  );
  // The SDK has parsed the script's JSON array; a client without automatic deserialisation would not.
  const values = typeof reply === 'string' ? (JSON.parse(reply) as (string | null)[]) : reply;
  const record = fromHash(Object.fromEntries(KEY_FIELDS.map((f, i) => [f, values[i] ?? null])));
  return record && !record.revoked_at ? record : null;
}

/**
 * Lists are stored comma-separated: never JSON-shaped, which the SDK would parse on the way back. An
 * empty list would read back as unset (every scope, any model), so it is refused here.
 */
export function toHash(record: KeyRecord): Record<string, string> {
  const text = (v: KeyRecord[keyof KeyRecord]) => {
    if (Array.isArray(v) && v.length === 0)
      throw new RangeError('a key list (scopes, models) cannot be empty');
    return v === null ? '' : Array.isArray(v) ? v.join(',') : String(v);
  };
  return Object.fromEntries(KEY_FIELDS.map((f) => [f, text(record[f])]));
}

/** Values come back through the SDK's JSON deserialisation: numbers as numbers, '' as ''. */
export function fromHash(values: Record<string, unknown>): KeyRecord | null {
  if (!values.id) return null;
  const num = (v: unknown) => (v === '' || v === null || v === undefined ? null : Number(v));
  const str = (v: unknown) => (v === '' || v === null || v === undefined ? null : String(v));
  const list = (v: unknown) => str(v)?.split(',') ?? null;
  const scopes = list(values.scopes)?.filter((s): s is KeyScope =>
    (KEY_SCOPES as readonly string[]).includes(s),
  );
  return {
    id: String(values.id),
    name: String(values.name ?? ''),
    created_at: String(values.created_at ?? ''),
    rpm: num(values.rpm),
    upm: num(values.upm),
    daily_budget_usd: num(values.daily_budget_usd),
    budget_share: num(values.budget_share),
    scopes: scopes ?? null,
    models: list(values.models),
    revoked_at: str(values.revoked_at),
  };
}
