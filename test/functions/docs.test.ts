import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DOCS_PATHS, DOCS_SANDBOX } from '../../functions/docs';
import { app } from '../../functions/index';
import { redisCountingGateway } from '../support/gateway';
import { ADMIN_KEY, adminAuth } from '../support/keys';

const get = (path: string, headers: Record<string, string> = {}) =>
  exports.default.fetch(`http://gateway${path}`, { headers });

/** Every `src` and `href` in an HTML page. */
const referencesOf = (html: string) =>
  [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);

const TYPES: Record<string, RegExp> = {
  '.css': /^text\/css\b/,
  '.js': /^(?:text|application)\/javascript\b/,
};

describe('GET /docs', () => {
  it('serves the reference page without a key, under a same-origin CSP', async () => {
    const res = await get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:/);
    const html = await res.text();
    expect(html).toContain('<div id="swagger-ui"></div>');
  });

  it("is sandboxed: an opaque origin, so it cannot read the dashboard's sessionStorage or cookies", async () => {
    const csp = (await get('/docs')).headers.get('content-security-policy') ?? '';
    const sandbox = csp.split(';')[0]?.trim() ?? '';
    expect(sandbox).toBe(DOCS_SANDBOX);
    expect(sandbox.split(' ')).toEqual(['sandbox', 'allow-scripts', 'allow-forms', 'allow-popups']);
    expect(csp).not.toContain('allow-same-origin');
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('references only same-origin files, each served with 200 and its content type', async () => {
    const html = await (await get('/docs')).text();
    // The empty data: icon only keeps the browser from asking for /favicon.ico (a 401 here).
    const refs = referencesOf(html).filter((ref) => ref !== 'data:,');
    expect(refs).toEqual(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']);
    expect(html).not.toMatch(/https?:\/\//);
    for (const ref of refs) {
      expect(ref).toMatch(/^\/[^/]/);
      const res = await get(ref);
      expect([ref, res.status]).toEqual([ref, 200]);
      expect(res.headers.get('content-type')).toMatch(TYPES[ref.slice(ref.lastIndexOf('.'))] as RegExp);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await res.text()).length).toBeGreaterThan(100);
    }
  });

  it('serves Swagger UI itself, not a placeholder', async () => {
    const bundle = await (await get('/docs/swagger-ui-bundle.js')).text();
    expect(bundle.length).toBeGreaterThan(1_000_000);
    expect(bundle).toContain('SwaggerUIBundle');
    const css = await (await get('/docs/swagger-ui.css')).text();
    expect(css).toContain('.swagger-ui');
  });

  it('starts Swagger UI on /openapi.json, with no call to an outside validator', async () => {
    const init = await (await get('/docs/init.js')).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
    expect(init).not.toMatch(/https?:\/\//);
    expect((await get('/openapi.json')).status).toBe(200);
  });

  it('answers 304 to a client that has the current file', async () => {
    const first = await get('/docs/swagger-ui.css');
    await first.body?.cancel();
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await get('/docs/swagger-ui.css', { 'if-none-match': etag as string });
    expect(again.status).toBe(304);
    expect(again.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('serves nothing else from the static assets: the gateway still answers its own routes', async () => {
    for (const path of ['/index.html', '/swagger-ui.css', '/docs/index.html', '/package.json']) {
      const res = await get(path, adminAuth);
      expect([path, res.status]).toEqual([path, 404]);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
    const root = await get('/');
    expect(root.headers.get('content-type')).toContain('application/json');
  });

  it('mounts every docs path as a GET route', () => {
    const served = app.routes.filter((r) => r.method === 'GET').map((r) => r.path);
    expect(served).toEqual(expect.arrayContaining([...DOCS_PATHS]));
  });
});

describe('calls from the sandboxed page (Origin: null)', () => {
  const fromDocs = { origin: 'null' };

  it('can read /openapi.json', async () => {
    const res = await get('/openapi.json', fromDocs);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('gets a preflight answered before any key is asked for, with no Redis command', async () => {
    const gateway = redisCountingGateway();
    const res = await gateway.request('/v1/opportunities', {
      method: 'OPTIONS',
      headers: {
        ...fromDocs,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'access-control-allow-origin': 'null',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-allow-methods': 'GET, HEAD, POST, PATCH, DELETE',
    });
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(gateway.commands).toEqual([]);
  });

  it('can read the answers, errors and their headers included ("Try it out")', async () => {
    for (const [headers, status] of [
      [fromDocs, 401],
      [{ ...fromDocs, ...adminAuth }, 200],
    ] as const) {
      const res = await get('/v1/budget', headers);
      expect(res.status).toBe(status);
      expect(res.headers.get('access-control-allow-origin')).toBe('null');
      expect(res.headers.get('access-control-expose-headers')).toBe('*');
      await res.body?.cancel();
    }
  });

  it('leaves other origins as before: no CORS headers, and a preflight is not answered', async () => {
    const other = { origin: 'https://shop.example' };
    const res = await get('/v1/budget', { ...other, authorization: `Bearer ${ADMIN_KEY}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await exports.default.fetch('http://gateway/v1/budget', {
      method: 'OPTIONS',
      headers: { ...other, 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(401);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});
