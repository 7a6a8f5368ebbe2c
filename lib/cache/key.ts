/**
 * Canonical cache keys: requests that mean the same thing map to one key, whatever their field order,
 * spacing or case; anything that changes the answer (a field value, the namespace, the version)
 * changes the key. The layout is `gw:v1:cache:<namespace>:<kind>:<version>:<sha256 of the fields>`,
 * and a generation in progress holds `<that key>:lease`.
 */
import type { Env } from '../env';
import { toHex } from '../hex';
import { redisKey } from '../store';

export interface CacheKeyParts {
  /** Whose entries these are: `cacheNamespace(keyId)` per tenant, or a shared namespace. */
  namespace: string;
  /** What is cached, e.g. `creative` or `opportunity`. */
  kind: string;
  /**
   * Built by the caller from everything that shapes the answer but is not in `fields` (prompt, schema
   * and model versions, e.g. `p3.s2.gpt-4.1`), so bumping any of them abandons the old entries.
   */
  version: string;
  /** The request fields that decide the answer. null and undefined fields count as absent. */
  fields: Record<string, unknown>;
  /**
   * Top-level fields whose strings (at any depth below) are hashed exactly as given, when case or
   * spacing changes the answer (a URL, a SKU). Every other string is normalised.
   * @default []
   */
  exactFields?: readonly string[];
}

/**
 * The namespace for a tenant's entries, or for entries every key shares when the gateway is configured
 * so (`CACHE_SHARED_NAMESPACE`). The prefixes keep the two kinds from ever naming the same namespace.
 * @example cacheNamespace({ keyId: auth.id, shared: env.CACHE_SHARED_NAMESPACE ? 'default' : undefined })
 */
export function cacheNamespace({ keyId, shared }: { keyId: string; shared?: string | undefined }): string {
  return shared === undefined ? `tenant.${keyId}` : `shared.${shared}`;
}

/** A cache key in `tenant`'s namespace, or in the shared one when `CACHE_SHARED_NAMESPACE` is set. */
export function tenantCacheKey(
  env: Pick<Env, 'CACHE_SHARED_NAMESPACE'>,
  tenant: string,
  parts: Omit<CacheKeyParts, 'namespace'>,
): Promise<string> {
  const shared = env.CACHE_SHARED_NAMESPACE ? 'shared' : undefined;
  return cacheKey({ namespace: cacheNamespace({ keyId: tenant, shared }), ...parts });
}

/** Trim, collapse inner whitespace, Unicode NFKC, lower-case. NFKC first: it can produce spaces. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * `normaliseText`, remembered for recent short texts: a hot request (a cache hit, again and again)
 * brings the same texts every time, and each normalisation makes three or four strings. At most
 * RECENT_TEXTS of at most RECENT_TEXT_CHARS characters, the oldest going first (as recentKeys below).
 */
function normalisedOnce(text: string): string {
  if (text.length > RECENT_TEXT_CHARS) return normaliseText(text);
  let normalised = recentTexts.get(text);
  if (normalised === undefined) {
    normalised = normaliseText(text);
    if (recentTexts.size >= RECENT_TEXTS) recentTexts.delete(recentTexts.keys().next().value ?? '');
    recentTexts.set(text, normalised);
  }
  return normalised;
}

const recentTexts = new Map<string, string>();
const RECENT_TEXTS = 512;
const RECENT_TEXT_CHARS = 256;

/**
 * Canonical JSON of `fields`: object keys sorted at every depth, null/undefined object fields dropped,
 * arrays in order (a null or undefined element stays, as null), strings normalised unless under one of
 * `exactFields`.
 * @throws TypeError for values JSON cannot carry faithfully (NaN, bigint, functions, cycles, Map, …).
 */
export function canonicalJson(fields: Record<string, unknown>, exactFields: readonly string[] = []): string {
  const exact = new Set(exactFields);
  const seen = new Set<object>();
  const encode = (value: unknown, verbatim: boolean, path: string): string => {
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'string') return JSON.stringify(verbatim ? value : normalisedOnce(value));
    if (typeof value === 'boolean') return String(value);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError(`cache key field ${path} is not a finite number`);
      return JSON.stringify(value);
    }
    if (typeof value !== 'object') throw new TypeError(`cache key field ${path} is a ${typeof value}`);
    if (value instanceof Date) return encode(value.toISOString(), true, path);
    if (seen.has(value)) throw new TypeError(`cache key field ${path} is circular`);
    seen.add(value);
    let out: string;
    if (Array.isArray(value)) {
      out = `[${value.map((v, i) => encode(v, verbatim, `${path}[${i}]`)).join(',')}]`;
    } else {
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`cache key field ${path} is not a plain object`);
      }
      const entries = Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(
          ([k, v]) =>
            `${JSON.stringify(k)}:${encode(v, verbatim || (path === '' && exact.has(k)), `${path}.${k}`)}`,
        );
      out = `{${entries.join(',')}}`;
    }
    seen.delete(value);
    return out;
  };
  return encode(fields, false, '');
}

const utf8 = new TextEncoder();

async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', utf8.encode(text)));
}

/**
 * Keys this isolate built lately, by everything they were built from (the tenant's namespace
 * included, so no tenant can time another's requests): a hot request, a cache hit again and again, is
 * hashed once. At most RECENT_KEYS entries of at most RECENT_KEY_CHARS characters (about 1 MB), the
 * oldest going first.
 */
const recentKeys = new Map<string, string>();
const RECENT_KEYS = 512;
const RECENT_KEY_CHARS = 2048;

// Parts are caller-built strings: encoding keeps `:` (and `%`) out of them, so no two part lists can
// join into the same key, and a tenant namespace can never reach into another's.
function keyPart(name: string, value: string): string {
  if (typeof value !== 'string' || value === '')
    throw new RangeError(`cache key ${name} must be a non-empty string`);
  return encodeURIComponent(value);
}

/**
 * The Redis key of one cache entry. Async because hashing is (WebCrypto); no I/O.
 * @example await cacheKey({ namespace: cacheNamespace({ keyId }), kind: 'creative', version: 'p3.gpt-4.1',
 *   fields: { category: body.product_category, audience: body.target_audience } })
 */
export async function cacheKey(parts: CacheKeyParts): Promise<string> {
  const { namespace, kind, version, fields, exactFields } = parts;
  const head = redisKey(
    'cache',
    keyPart('namespace', namespace),
    keyPart('kind', kind),
    keyPart('version', version),
  );
  const canonical = canonicalJson(fields, exactFields);
  // The encoded parts hold no `:`, so the head and the fields join into one unambiguous text.
  const built = `${head}:${canonical}`;
  const known = recentKeys.get(built);
  if (known !== undefined) return known;
  const key = `${head}:${await sha256Hex(canonical)}`;
  if (built.length <= RECENT_KEY_CHARS) {
    if (recentKeys.size >= RECENT_KEYS) recentKeys.delete(recentKeys.keys().next().value ?? '');
    recentKeys.set(built, key);
  }
  return key;
}

/** The lease key of a generation in progress for `key`; one segment longer than any entry key. */
export function leaseKeyOf(key: string): string {
  return `${key}:lease`;
}
