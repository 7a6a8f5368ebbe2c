import { type Context, Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { InternalError } from '../lib/errors';

/**
 * `GET /docs`: the interactive API reference, Swagger UI (swagger-ui-dist, maintained by SmartBear)
 * over `/openapi.json`, with "Try it out" and an Authorize dialog for a key. Nothing comes from a CDN:
 * its two files are served from this origin out of the Worker's static assets (wrangler.toml
 * `[assets]`, bound as DOCS_ASSETS), so they add nothing to the Worker bundle (≈ 0.5 MB gzipped if
 * bundled) and the page works offline and under a CSP that allows this origin only. Importing them
 * as text modules would have worked for `wrangler deploy` but not in the vitest plugin (Vite adds a
 * `?v=` query to files in node_modules, and the plugin's module rules skip such specifiers).
 */

/** Every path this module serves; all public (they hold no data: the page asks for a key). */
export const DOCS_PATHS = [
  '/docs',
  '/docs/swagger-ui.css',
  '/docs/swagger-ui-bundle.js',
  '/docs/init.js',
] as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>commerce-ai-gateway API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io for a badge.
// persistAuthorization stays off, so a key typed into Authorize is never written to localStorage.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
  displayRequestDuration: true,
  filter: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
});
`;

/**
 * `sandbox` first: the page gets an opaque origin, so Swagger UI (third-party code) can read nothing
 * the gateway's origin keeps, such as the admin key the dashboard holds in sessionStorage, nor its
 * cookies, nor script a same-origin window (#16). Scripts run (`allow-scripts`), the Authorize dialog
 * is a form whose submit Swagger UI handles itself (`allow-forms`; `form-action 'none'` still stops
 * any real submission) and links may open windows (`allow-popups`, sandboxed too). Its fetches are
 * cross-origin with `Origin: null`: /openapi.json is readable by anyone, and lib/cors.ts answers the
 * "Try it out" calls. `'self'` still names the gateway's URL origin, so files load from it alone;
 * inline styles because Swagger UI sets some.
 */
export const DOCS_SANDBOX = 'sandbox allow-scripts allow-forms allow-popups';
const CSP = [
  DOCS_SANDBOX,
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'content-security-policy': CSP,
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** A swagger-ui-dist file from the static assets, with its ETag (and a 304 when the client has it). */
async function asset(c: Context<AppEnv>, file: string): Promise<Response> {
  const ifNoneMatch = c.req.header('if-none-match');
  const res = await c.env.DOCS_ASSETS.fetch(new URL(file, c.req.url), {
    headers: ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {},
  });
  if (res.status !== 200 && res.status !== 304) {
    throw new InternalError({ message: `The docs asset ${file} is missing (${res.status}).` });
  }
  // A new response, because the asset's headers are immutable and the app adds x-request-id.
  const headers = new Headers(res.headers);
  headers.set('x-content-type-options', 'nosniff');
  return new Response(res.body, { status: res.status, headers });
}

export const docs = new Hono<AppEnv>()
  .get('/docs', (c) => c.html(PAGE, 200, PAGE_HEADERS))
  .get('/docs/init.js', (c) =>
    c.body(INIT, 200, { ...PAGE_HEADERS, 'content-type': 'text/javascript; charset=utf-8' }),
  )
  .get('/docs/swagger-ui.css', (c) => asset(c, '/swagger-ui.css'))
  .get('/docs/swagger-ui-bundle.js', (c) => asset(c, '/swagger-ui-bundle.js'));
