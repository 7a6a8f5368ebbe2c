import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from './app-env';
import { adminPrincipal, bearerOf, keyPrincipal, presentedKeyHash, presentsSecret } from './caller';
import { configOf } from './config';
import { AuthenticationError, PermissionDeniedError, StoreUnavailableError } from './errors';
import { checkModel, checkScope } from './key-policy';
import { isKeyShaped, type KeyRecord, keyIdOf, lookupKey, sameRecord } from './keys';
import { decide, deniedInIsolate, enforce } from './request-limit';

/** What `admit` checks besides the key and its rate limit. */
export interface AdmitOptions {
  /** The model the request names: refused (403) when the key's allow-list does not name it. */
  model?: string;
}

/** Tags route middleware that protects its route, so {@link protect} leaves the route to it. */
const GUARD = Symbol('guard');
function guard(middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return Object.assign(middleware, { [GUARD]: true });
}
const guardedRoute = (c: Context<AppEnv>) => matchedRoutes(c).some((route) => GUARD in route.handler);

/**
 * Requires the admin key (`ADMIN_API_KEY`), or the token `alsoAccept` names for this route (say a
 * Prometheus scrape token, which then acts as the admin for this route only).
 */
export function requireAdmin(
  options: { alsoAccept?: (env: AppEnv['Variables']['env']) => string | undefined } = {},
): MiddlewareHandler<AppEnv> {
  return guard(async (c, next) => {
    const presented = bearerOf(c);
    const adminKey = c.get('env').ADMIN_API_KEY;
    const other = options.alsoAccept?.(c.get('env'));
    if (!(await presentsSecret(c, adminKey)) && !(await presentsSecret(c, other))) {
      // Only to tell a client key (403) from a wrong one (401); when Redis cannot say, it is not the
      // admin key either way, so a 401, not a 500.
      const known =
        isKeyShaped(presented) &&
        (await lookupKey(c.get('deps').redis, await presentedKeyHash(c)).catch(() => null));
      if (known) throw new PermissionDeniedError({ message: 'This endpoint needs the admin key.' });
      throw new AuthenticationError({ message: 'Invalid admin key.' });
    }
    c.set('principal', adminPrincipal(c));
    await next();
  });
}

/**
 * Marks a route whose handler admits its caller itself, with {@link admit} (to join a cache lookup to
 * the key check's round trip): written in the route, beside its validator, so the route shows how it
 * is protected. Here only the presence of a bearer is checked.
 */
export const admitsInHandler: MiddlewareHandler<AppEnv> = guard(async (c, next) => {
  bearerOf(c);
  await next();
});

/**
 * Requires a client key (or the admin key) and applies the caller's rate limit; see {@link admit}.
 */
export function admitClient(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await admit(c, async () => undefined);
    await next();
  };
}

/**
 * Authenticates the caller, applies its rate limit and runs `extra` (say, a cache lookup, or a proxied
 * call's reservation), all in one Redis round trip: the key lookup, the limiter's script and `extra`'s
 * commands are issued in the same tick, and the store's batching carries them in one request. The key id
 * (the limiter's identifier) derives from the key's hash; a key this isolate admitted before is
 * remembered, so `extra` runs as its remembered principal (set before `extra` starts) while the lookup
 * confirms it; a key's first request in an isolate is looked up alone first (an unknown key costs that
 * read and nothing else). The price of that one round trip: a key revoked after this isolate admitted
 * it still adds to its rate limit and runs `extra` on the requests that find it revoked, those in
 * flight together (the caller undoes what `extra` holds when admission throws); then it is forgotten.
 * A key changed meanwhile (PATCH) is admitted as it now is: the caller compares the principal `extra`
 * saw with the one set at the end. Scope and model are checked before anything is written. Sets
 * `principal`; returns `extra`'s result.
 */
export async function admit<T>(
  c: Context<AppEnv>,
  extra: () => Promise<T>,
  options: AdmitOptions = {},
): Promise<T> {
  const presented = bearerOf(c);
  const env = c.get('env');
  if (await presentsSecret(c, env.ADMIN_API_KEY)) {
    c.set('principal', adminPrincipal(c));
    const [decision, result] = await Promise.all([decide(c, 'admin', env.KEY_RATE_LIMIT_RPM), extra()]);
    enforce(c, decision);
    return result;
  }
  if (!isKeyShaped(presented)) throw new AuthenticationError({ message: 'Invalid or revoked API key.' });
  const hash = await presentedKeyHash(c);
  const id = keyIdOf(hash);
  const { redis, keyRecords } = c.get('deps');
  const lookup = () =>
    lookupKey(redis, hash).catch((err: unknown) => {
      throw new StoreUnavailableError({
        message: 'Cannot check the API key right now; retry shortly.',
        cause: err,
      });
    });
  /** Sets `record`'s principal once it may do what this request asks (403 before any write). */
  const actAs = (record: KeyRecord) => {
    const principal = keyPrincipal(c, record);
    checkScope(principal, c.req.path);
    if (options.model !== undefined) {
      checkModel(principal, options.model, configOf(env).prices.entryOf(options.model));
    }
    c.set('principal', principal);
    return record.rpm ?? env.KEY_RATE_LIMIT_RPM;
  };
  const remembered = keyRecords.get(id);
  // A denial the isolate remembers refuses without running `extra` (nothing to undo).
  const run = deniedInIsolate(c, id) ? async () => undefined : extra;
  const rememberedRpm = remembered && permitted(() => actAs(remembered));
  const [record, decision, result] =
    rememberedRpm === undefined
      ? await lookup().then(async (r) => {
          if (!r) return [r, undefined, undefined] as const;
          const rpm = actAs(r);
          return Promise.all([r, decide(c, id, rpm), run()] as const);
        })
      : await Promise.all([lookup(), decide(c, id, rememberedRpm), run()]);
  if (!record) {
    // Revoked since this isolate admitted it: forgotten, so its next requests are looked up alone and
    // write nothing (remembered, each would add to its rate limit and run `extra`).
    keyRecords.delete(id);
    throw new AuthenticationError({ message: 'Invalid or revoked API key.' });
  }
  // Found as remembered (most requests): the principal it acted as stands, the very same object, so
  // nothing is built or checked twice and callers may compare it by identity.
  const kept = remembered && sameRecord(remembered, record) ? remembered : record;
  keyRecords.set(id, kept);
  if (kept !== remembered) actAs(kept);
  enforce(c, decision);
  return result as T;
}

/** What `act` returns, or undefined when it refuses (the request then takes the lookup-first path). */
function permitted<T>(act: () => T): T | undefined {
  try {
    return act();
  } catch {
    return undefined;
  }
}

/**
 * Throws 401 unless the request carries the admin key or a live client key (403 when the key lacks the
 * route's scope): at most one key lookup, no write. For an error found before admission (a bad body, an unknown model): only a caller known to be
 * who it says learns what was wrong with its request.
 */
export async function verifyCaller(c: Context<AppEnv>): Promise<void> {
  const presented = bearerOf(c);
  const env = c.get('env');
  if (await presentsSecret(c, env.ADMIN_API_KEY)) return;
  if (!isKeyShaped(presented)) throw new AuthenticationError({ message: 'Invalid or revoked API key.' });
  const record = await lookupKey(c.get('deps').redis, await presentedKeyHash(c)).catch((err: unknown) => {
    throw new StoreUnavailableError({
      message: 'Cannot check the API key right now; retry shortly.',
      cause: err,
    });
  });
  if (!record) throw new AuthenticationError({ message: 'Invalid or revoked API key.' });
  checkScope(keyPrincipal(c, record), c.req.path);
}

/**
 * Protection by default: every route needs a key except those `isPublic` names, and `/admin/*` needs
 * the admin key. A route added later is protected without anyone remembering to protect it; a route
 * that guards itself says so in its own definition ({@link admitsInHandler}, {@link requireAdmin}).
 */
export function protect(isPublic: (path: string) => boolean): MiddlewareHandler<AppEnv> {
  const client = admitClient();
  const admin = requireAdmin();
  return async (c, next) => {
    if (isPublic(c.req.path) || guardedRoute(c)) return next();
    if (c.req.path === '/admin' || c.req.path.startsWith('/admin/')) return admin(c, next);
    await client(c, next);
  };
}
