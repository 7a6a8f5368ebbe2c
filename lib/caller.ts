/**
 * Who is calling, from the request alone: the bearer it presents, whether that is the admin key
 * (compared in constant time), the tenant a key names before Redis answers, and the principal a key
 * record makes. No Redis here.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import { AuthenticationError } from './errors';
import { toHex } from './hex';
import { keyBudgetUsd } from './key-policy';
import { isKeyShaped, type KeyRecord, keyIdOf } from './keys';
import type { Principal } from './principal';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The tenant a request's key names, known before Redis answers: the key id derives from the key's
 * hash (`admin` for the admin key). Throws 401 for a missing or malformed key.
 */
export async function presentedTenant(c: Context<AppEnv>): Promise<string> {
  const presented = bearerOf(c);
  if (await presentsSecret(c, c.get('env').ADMIN_API_KEY)) return 'admin';
  if (!isKeyShaped(presented)) throw new AuthenticationError({ message: 'Invalid or revoked API key.' });
  return keyIdOf(await presentedKeyHash(c));
}

/** SHA-256 of a string. */
const sha256 = (text: string) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));

/** The configured secrets' digests: the isolate's env does not change, so each is computed once. */
const secretDigests = new Map<string, Promise<ArrayBuffer>>();

/**
 * Recent bearers' digests, per isolate: a client sends the same key on every request, and hashing it
 * (SHA-256, then hex) was a thirtieth of a cache hit's CPU. Bounded in number, the oldest dropped
 * first, and in length (a longer bearer is no key of ours, and 1,024 of them at a header's size would
 * fill the isolate): a flood of made-up bearers only churns it. A presented key held here is as exposed
 * as the request that carried it: nothing outside the isolate reads its memory. A Map finds a string by
 * its seeded hash, so how long a lookup takes says nothing about the keys it holds.
 */
const bearerDigests = new Map<string, KnownBearer>();
export const RECENT_BEARERS = 1024;
export const REMEMBERED_BEARER_LENGTH = 128;

/** How many bearers the isolate remembers (never more than RECENT_BEARERS). */
export const rememberedBearers = (): number => bearerDigests.size;

interface KnownBearer {
  digest: Promise<ArrayBuffer>;
  hex?: string;
  /** Whether it is each configured secret it was compared with (the comparison never changes). */
  matches?: Map<string, boolean>;
}

/**
 * A bearer too long to remember: its digest, once per request. Keyed by the request's context, not its
 * Request: a value keyed by a runtime object (a Request) outlives every young-generation collection
 * until a full one, as the runtime holds the object; a context is plain JavaScript.
 */
const unremembered = new WeakMap<Context<AppEnv>, KnownBearer>();

function digestOf(c: Context<AppEnv>): KnownBearer {
  const bearer = bearerOf(c);
  if (bearer.length > REMEMBERED_BEARER_LENGTH) {
    let once = unremembered.get(c);
    if (!once) {
      once = { digest: sha256(bearer) };
      unremembered.set(c, once);
    }
    return once;
  }
  let known = bearerDigests.get(bearer);
  if (!known) {
    if (bearerDigests.size >= RECENT_BEARERS)
      bearerDigests.delete(bearerDigests.keys().next().value as string);
    known = { digest: sha256(bearer) };
    bearerDigests.set(bearer, known);
  }
  return known;
}

/**
 * Whether the request's bearer is `secret` (the admin key, a scrape token), in constant time: equal-
 * length digests compared with timingSafeEqual. False when `secret` is unset; 401 without a bearer.
 */
export async function presentsSecret(c: Context<AppEnv>, secret: string | undefined): Promise<boolean> {
  if (!secret) return false;
  const known = digestOf(c);
  const matched = known.matches?.get(secret);
  if (matched !== undefined) return matched;
  let theirs = secretDigests.get(secret);
  if (!theirs) {
    theirs = sha256(secret);
    secretDigests.set(secret, theirs);
  }
  const [mine, expected] = await Promise.all([known.digest, theirs]);
  const equal = crypto.subtle.timingSafeEqual(mine, expected);
  known.matches ??= new Map();
  known.matches.set(secret, equal);
  return equal;
}

/** The presented key's hash as stored (lib/keys.ts `hashKey`), from the request's one digest. */
export async function presentedKeyHash(c: Context<AppEnv>): Promise<string> {
  const known = digestOf(c);
  known.hex ??= toHex(await known.digest);
  return known.hex;
}

/** Whether the request carries the admin key: no Redis, and false (never a throw) without a bearer. */
export async function presentsAdminKey(c: Context<AppEnv>): Promise<boolean> {
  const presented = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  return !!presented && (await presentsSecret(c, c.get('env').ADMIN_API_KEY));
}

/** Each request's bearer, read once (a request asks for it half a dozen times), kept on its context. */
export function bearerOf(c: Context<AppEnv>): string {
  let presented = c.get('bearer');
  if (presented !== undefined) return presented;
  presented = BEARER.exec(c.req.header('authorization') ?? '')?.[1];
  if (!presented) {
    throw new AuthenticationError({ message: 'Send your gateway key as `Authorization: Bearer <key>`.' });
  }
  c.set('bearer', presented);
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
