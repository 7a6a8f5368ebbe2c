/**
 * CORS for sandboxed pages, the API reference above all. `/docs` is served with a CSP `sandbox` (an
 * opaque origin, so Swagger UI cannot read what the dashboard keeps on the gateway's origin, #16);
 * its calls, "Try it out" included, are therefore cross-origin and carry `Origin: null`. Those, and
 * only those, get CORS answers: a preflight is answered here with 204, before authentication (a
 * preflight never carries a key) and without being metered; any other request runs as usual and its
 * answer is made readable. No credentials are allowed: the API takes bearer keys, never cookies, so
 * a page can call it only with a key it was given. Requests from a real origin (another site) get no
 * CORS headers, as before.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env';

/** The `Origin` a document with an opaque origin sends. */
const OPAQUE = 'null';

/** How long a browser may reuse a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function opaqueOriginCors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.header('origin') !== OPAQUE) return next();
    const preflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method');
    if (preflight) {
      c.set('metrics', undefined);
      return c.body(null, 204, {
        'access-control-allow-origin': OPAQUE,
        'access-control-allow-methods': 'GET, HEAD, POST, PATCH, DELETE',
        'access-control-allow-headers': c.req.header('access-control-request-headers') ?? '',
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
        vary: 'Origin',
      });
    }
    await next();
    if (c.res.headers.has('access-control-allow-origin')) return;
    c.res.headers.set('access-control-allow-origin', OPAQUE);
    // Swagger UI shows every response header (x-request-id, x-cache, the rate limit, Retry-After).
    c.res.headers.set('access-control-expose-headers', '*');
    c.res.headers.append('vary', 'Origin');
  };
}
