/**
 * How one cache entry is stored: a JSON string `{"cached_at":<ms>,"value":<json>}`. The fixed prefix
 * lets the lookup script tell an entry from anything else at the key (see lib/scripts/cache.ts).
 */

/** What every stored entry starts with; the lookup script checks it. */
export const ENTRY_PREFIX = '{"cached_at":';

export interface CacheEntry<T> {
  value: T;
  /** When it was stored, in ms since the epoch. */
  cachedAt: number;
}

/** @throws TypeError when `value` has no JSON form (undefined, a function) or cannot be serialised. */
export function encodeEntry(value: unknown, cachedAt: number): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('a cache value must have a JSON form');
  return `${ENTRY_PREFIX}${Math.round(cachedAt)},"value":${json}}`;
}

/**
 * Reads an entry back however the client hands it over: @upstash/redis parses JSON strings by default
 * (reference upstash-and-workers.md §1.6), so it is usually an object already; with
 * `automaticDeserialization: false` it is the string. Anything else at the key is null (a miss).
 */
export function decodeEntry<T>(raw: unknown): CacheEntry<T> | null {
  let parsed = raw;
  if (typeof raw === 'string') {
    if (!raw.startsWith(ENTRY_PREFIX)) return null;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (parsed === null || typeof parsed !== 'object' || !('value' in parsed)) return null;
  const { cached_at: cachedAt, value } = parsed as { cached_at: unknown; value: T };
  if (typeof cachedAt !== 'number' || !Number.isFinite(cachedAt)) return null;
  return { value, cachedAt };
}
