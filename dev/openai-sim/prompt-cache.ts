/**
 * Prompt caching as the realistic profile bills it. A prompt of at least MIN_CACHED_TOKENS input tokens is
 * cached under its exact content (model + `prompt_cache_key` + a hash of the whole input, as the caller
 * builds the key): the first request writes it and reports `cache_write_tokens`, a later one within the
 * lifetime reads it and reports `cached_tokens`, both the input rounded down to a multiple of 128. The lifetime
 * is 5 minutes × `time_scale` on the scope's clock, renewed by every hit. Entries are kept per API key (a
 * stand-in for an OpenAI organization, so that tests with their own keys never share them).
 */
export interface PromptCache {
  /** Looks `entry` up for `apiKey`, writing it on a miss; what the request reads and writes. */
  use(apiKey: string, entry: string, inputTokens: number, nowMs: number, lifetimeMs: number): CacheUse;
  /** Forgets the entries of `apiKey`, or all of them. */
  clear(apiKey?: string): void;
}

/** Cached tokens read and written by one request. */
export interface CacheUse {
  cachedTokens: number;
  cacheWriteTokens: number;
}

export const MIN_CACHED_TOKENS = 1024;
export const CACHE_STEP_TOKENS = 128;
export const CACHE_LIFETIME_MS = 5 * 60_000;
/** Past this many entries, expired ones are swept on the next write. */
const SWEEP_AT = 10_000;

const NONE: CacheUse = { cachedTokens: 0, cacheWriteTokens: 0 };

export function createPromptCache(): PromptCache {
  const expiries = new Map<string, Map<string, number>>();
  return {
    use(apiKey, entry, inputTokens, nowMs, lifetimeMs) {
      if (inputTokens < MIN_CACHED_TOKENS) return NONE;
      const size = Math.floor(inputTokens / CACHE_STEP_TOKENS) * CACHE_STEP_TOKENS;
      let entries = expiries.get(apiKey);
      if (!entries) {
        entries = new Map();
        expiries.set(apiKey, entries);
      }
      const hit = (entries.get(entry) ?? -Infinity) > nowMs;
      if (!hit && entries.size >= SWEEP_AT) {
        for (const [key, expiresAt] of entries) if (expiresAt <= nowMs) entries.delete(key);
      }
      entries.set(entry, nowMs + lifetimeMs);
      return hit ? { cachedTokens: size, cacheWriteTokens: 0 } : { cachedTokens: 0, cacheWriteTokens: size };
    },
    clear(apiKey) {
      if (apiKey === undefined) expiries.clear();
      else expiries.delete(apiKey);
    },
  };
}
