/**
 * The admin's side of client API keys (lib/keys.ts): creating one (shown once), listing, revoking and
 * changing settings. Each reads or writes Redis directly; a change takes effect on the key's next request.
 */
import { NotFoundError } from './errors';
import {
  fromHash,
  hashKey,
  KEY_FIELDS,
  KEY_INDEX,
  type KeyRecord,
  type KeySettings,
  type KeysRedis,
  keyIdOf,
  keyRecordKey,
  type NewKey,
  toHash,
} from './keys';

const KEY_PREFIX = 'cag_';

/** Creates a key: 256 random bits, base64url, with a `cag_` prefix that secret scanners can match. */
export async function createKey(
  redis: KeysRedis,
  input: NewKey,
  now: () => number,
): Promise<KeyRecord & { key: string }> {
  const random = crypto.getRandomValues(new Uint8Array(32));
  const key =
    KEY_PREFIX +
    btoa(String.fromCharCode(...random))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  const hash = await hashKey(key);
  const record: KeyRecord = {
    id: keyIdOf(hash),
    name: input.name,
    created_at: new Date(now()).toISOString(),
    rpm: input.rpm ?? null,
    upm: input.upm ?? null,
    daily_budget_usd: input.daily_budget_usd ?? null,
    budget_share: input.budget_share ?? null,
    scopes: input.scopes ?? null,
    models: input.models ?? null,
    revoked_at: null,
  };
  const p = redis.pipeline();
  p.hset(keyRecordKey(hash), toHash(record));
  p.hset(KEY_INDEX, { [record.id]: hash });
  await p.exec();
  return { ...record, key };
}

/** Every key's metadata, newest first, revoked ones included (never a secret or a hash). */
export async function listKeys(redis: KeysRedis): Promise<KeyRecord[]> {
  const index = (await redis.hgetall<Record<string, string>>(KEY_INDEX)) ?? {};
  const hashes = Object.values(index);
  if (!hashes.length) return [];
  const p = redis.pipeline();
  for (const hash of hashes) p.hmget(keyRecordKey(hash), ...KEY_FIELDS);
  const rows = (await p.exec()) as (Record<string, unknown> | null)[];
  return rows
    .map((row) => row && fromHash(row))
    .filter((r): r is KeyRecord => r !== null)
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** Revokes a key by id; the record stays for the listing, marked with when. */
export async function revokeKey(redis: KeysRedis, id: string, now: () => number): Promise<KeyRecord> {
  const { hash, record } = await recordById(redis, id);
  if (record.revoked_at) return record;
  const revoked_at = new Date(now()).toISOString();
  await redis.hset(keyRecordKey(hash), { revoked_at });
  return { ...record, revoked_at };
}

/**
 * Changes a key's settings (a field set to null returns to the default); the secret stays. Takes effect
 * on the key's next request in every isolate: every request reads the record.
 */
export async function updateKey(redis: KeysRedis, id: string, input: KeySettings): Promise<KeyRecord> {
  const { hash, record } = await recordById(redis, id);
  // A budget of its own and a share of the gateway's are exclusive: setting one clears the other.
  const settings: KeySettings = {
    ...input,
    ...(input.daily_budget_usd != null ? { budget_share: null } : {}),
    ...(input.budget_share != null ? { daily_budget_usd: null } : {}),
  };
  const updated: KeyRecord = { ...record, ...settings };
  const changed = Object.keys(settings) as (keyof KeySettings)[];
  if (changed.length) await redis.hset(keyRecordKey(hash), pick(toHash(updated), changed));
  return updated;
}

async function recordById(redis: KeysRedis, id: string): Promise<{ hash: string; record: KeyRecord }> {
  const hash = await redis.hget<string>(KEY_INDEX, id);
  const record = hash
    ? fromHash((await redis.hmget<Record<string, unknown>>(keyRecordKey(hash), ...KEY_FIELDS)) ?? {})
    : null;
  if (!hash || !record) throw new NotFoundError({ message: `No key with id ${id}.`, param: 'id' });
  return { hash, record };
}

const pick = (hash: Record<string, string>, fields: string[]) =>
  Object.fromEntries(fields.map((f) => [f, hash[f] ?? '']));
