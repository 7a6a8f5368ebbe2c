import { createHash } from 'node:crypto';
import { createCacheRouter } from './cache-routing.ts';
import type { CachePrompt } from './prompt-sequence.ts';
import { hashOf } from './rng.ts';
import { CHARS_PER_TOKEN } from './tokens.ts';

/**
 * Prompt caching as OpenAI does it, on every profile (production-realities.md, "Prompt caching"). A prompt
 * (prompt-sequence.ts: instructions, schema, tools, then input) is cut at every 128-token boundary from
 * 1,024 tokens on, and each prefix is an entry, keyed by a hash of model + `prompt_cache_key` + the prefix.
 * A request reads the longest of its prefixes still in the cache (`cached_tokens`) and writes the rest
 * (`cache_write_tokens`: its length rounded down to 128, minus what it read); below 1,024 tokens it does
 * neither. An entry lives `idleMs` after its last use, so every hit renews it. Entries are kept per API key
 * (a stand-in for an OpenAI organization, so that tests with their own keys never share them) and per cache
 * machine: a route used more than `overflowRpm` times a minute overflows to other machines (cache-routing.ts),
 * which start empty.
 */
export interface PromptCache {
  /** What `request` reads from the cache and writes to it. */
  use(request: CacheRequest): CacheUse;
  /** Forgets the entries and request counts of `apiKey`, or all of them. */
  clear(apiKey?: string): void;
}

/** One request's prompt and the settings it runs under. */
export interface CacheRequest {
  apiKey: string;
  prompt: CachePrompt;
  /** The request's `input_tokens`; nothing past it is cached. */
  inputTokens: number;
  nowMs: number;
  /** How long an entry lives after its last use. */
  idleMs: number;
  /** The window the overflow counts requests in (a minute, × time_scale). */
  windowMs: number;
  /** Requests per window on one route before some overflow to other machines. */
  overflowRpm: number;
}

/** Cached tokens read and written by one request. */
export interface CacheUse {
  cachedTokens: number;
  cacheWriteTokens: number;
}

export const MIN_CACHED_TOKENS = 1024;
export const CACHE_STEP_TOKENS = 128;
/** How long an unused entry lives, × time_scale; config `prompt_cache_idle_ms`. */
export const CACHE_IDLE_MS = 5 * 60_000;
/** Requests a minute on one route before some overflow; config `prompt_cache_overflow_rpm`. */
export const CACHE_OVERFLOW_RPM = 15;
/** OpenAI routes on roughly this many leading tokens. */
const ROUTE_TOKENS = 256;
/** Past this many entries for one account, expired ones are swept on the next write. */
const SWEEP_AT = 10_000;

const NONE: CacheUse = { cachedTokens: 0, cacheWriteTokens: 0 };

export function createPromptCache(): PromptCache {
  const accounts = new Map<string, Account>();
  const router = createCacheRouter();
  return {
    use(request) {
      const { apiKey, prompt, nowMs } = request;
      const prefixes = prefixHashes(prompt, request.inputTokens);
      if (prefixes.length === 0) return NONE;
      const route = hashOf(prompt.model, prompt.key, prompt.text.slice(0, ROUTE_TOKENS * CHARS_PER_TOKEN));
      const machine = router.machineFor(apiKey, route, nowMs, request.windowMs, request.overflowRpm);
      // Machine 0 is one cache for the account; an overflow machine is one of the route's own.
      const on = machine === 0 ? '' : `${route}:${machine}:`;
      const entries = accountEntries(accounts, apiKey, nowMs);
      let read = prefixes.length;
      while (read > 0 && (entries.get(on + prefixes[read - 1]) ?? -Infinity) <= nowMs) read -= 1;
      for (const prefix of prefixes) entries.set(on + prefix, nowMs + request.idleMs);
      const cachedTokens = read === 0 ? 0 : boundary(read - 1);
      return { cachedTokens, cacheWriteTokens: boundary(prefixes.length - 1) - cachedTokens };
    },
    clear(apiKey) {
      router.clear(apiKey);
      if (apiKey === undefined) accounts.clear();
      else accounts.delete(apiKey);
    },
  };
}

/** Tokens up to the `index`-th cacheable boundary: 1,024, 1,152, … */
function boundary(index: number): number {
  return MIN_CACHED_TOKENS + index * CACHE_STEP_TOKENS;
}

/**
 * The hash of each cacheable prefix, shortest first: one SHA-256 fed the prompt block by block and copied
 * at each boundary, so a long prompt costs one pass. Boundaries stop at the shorter of the prompt's text
 * and its reported input tokens, so a request never reads or writes more than it was billed as input.
 */
function prefixHashes(prompt: CachePrompt, inputTokens: number): string[] {
  const tokens = Math.min(Math.floor(prompt.text.length / CHARS_PER_TOKEN), inputTokens);
  const hash = createHash('sha256').update(JSON.stringify([prompt.model, prompt.key]));
  const hashes: string[] = [];
  let at = 0;
  for (let end = MIN_CACHED_TOKENS; end <= tokens; end += CACHE_STEP_TOKENS) {
    hash.update(prompt.text.slice(at, end * CHARS_PER_TOKEN));
    at = end * CHARS_PER_TOKEN;
    hashes.push(hash.copy().digest('hex'));
  }
  return hashes;
}

/** An account's entries (prefix → expiry) and the size at which expired ones are next swept. */
interface Account {
  entries: Map<string, number>;
  sweepAt: number;
}

function accountEntries(accounts: Map<string, Account>, apiKey: string, nowMs: number): Map<string, number> {
  let account = accounts.get(apiKey);
  if (!account) {
    account = { entries: new Map(), sweepAt: SWEEP_AT };
    accounts.set(apiKey, account);
  }
  const { entries } = account;
  if (entries.size >= account.sweepAt) {
    for (const [key, expiresAt] of entries) if (expiresAt <= nowMs) entries.delete(key);
    // Live entries stay; sweeping again only once they have doubled keeps a busy account from sweeping each call.
    account.sweepAt = Math.max(SWEEP_AT, 2 * entries.size);
  }
  return entries;
}
