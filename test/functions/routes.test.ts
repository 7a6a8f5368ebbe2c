import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app, isPublic, PUBLIC_PATHS } from '../../functions/index';
import { bearer, createTestKey } from '../support/keys';

/** Shaped like a client key, known to no one. */
const UNKNOWN_KEY = `Bearer cag_${'B'.repeat(43)}`;

/** Every route the app serves, as [method, path with sample params]. */
const routes = [
  ...new Map(
    app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => [`${r.method} ${r.path}`, [r.method, r.path.replace(/:(\w+)/g, 'sample-$1')] as const]),
  ).values(),
];

describe('route protection', () => {
  it('knows the public routes and at least one protected one', () => {
    expect(routes.map(([, p]) => p)).toEqual(expect.arrayContaining([...PUBLIC_PATHS, '/admin/keys']));
  });

  it.each(routes.filter(([, path]) => !isPublic(path)))(
    '%s %s refuses a request without a key with 401',
    async (method, path) => {
      const res = await exports.default.fetch(`http://gateway${path}`, { method });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    },
  );

  it.each(routes.filter(([, path]) => !isPublic(path) && path !== '/metrics'))(
    '%s %s answers an unknown, well-formed key with 401 whatever the body, before any other check',
    async (method, path) => {
      // A body that fails validation everywhere, a model nobody serves and a variant nobody configured:
      // none of them may be reported to a caller whose key is not known good.
      const res = await exports.default.fetch(`http://gateway${path}?minutes=-1`, {
        method,
        headers: {
          authorization: UNKNOWN_KEY,
          'content-type': 'application/json',
          'x-gateway-variant': 'zz',
        },
        ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{"model":"no-such-model","items":' }),
      });
      expect(res.status).toBe(401);
      if (method !== 'HEAD') {
        expect(await res.json()).toMatchObject({
          error: { type: 'authentication_error', code: 'invalid_api_key' },
        });
      }
    },
  );

  it.each(routes.filter(([method, path]) => !isPublic(path) && path !== '/metrics' && method === 'POST'))(
    '%s %s answers an unknown key with 401 even when the body is over MAX_BODY_BYTES',
    async (method, path) => {
      const res = await exports.default.fetch(`http://gateway${path}`, {
        method,
        headers: { authorization: UNKNOWN_KEY, 'content-type': 'application/json' },
        body: `{"x":"${'a'.repeat(1_048_576)}"}`,
      });
      expect(res.status).toBe(401);
    },
  );

  it.each(routes.filter(([, path]) => path.startsWith('/admin')))(
    '%s %s refuses a client key with 403',
    async (method, path) => {
      const { key } = await createTestKey();
      const res = await exports.default.fetch(`http://gateway${path}`, { method, headers: bearer(key) });
      expect(res.status).toBe(403);
    },
  );

  it('serves image URLs without a key (browsers load them), and nothing else under /v1', async () => {
    const image = await exports.default.fetch(`http://gateway/v1/images/${'a'.repeat(64)}`);
    expect(image.status).toBe(404);
    expect(isPublic(`/v1/images/${'0'.repeat(64)}`)).toBe(true);
    expect(isPublic('/v1/images/analyze')).toBe(false);
    expect(isPublic('/v1/images/abc')).toBe(false);
    expect(isPublic('/v1/images')).toBe(false);
    expect(isPublic('/v1/budget')).toBe(false);
  });

  it.each([
    ['no scheme', 'cag_abc'],
    ['Basic auth', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
    ['an unknown key', `Bearer cag_${'A'.repeat(43)}`],
    ['a malformed key', 'Bearer not-a-key'],
  ])('refuses %s with 401 invalid_api_key', async (_, authorization) => {
    const res = await exports.default.fetch('http://gateway/v1/anything', { headers: { authorization } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: { type: 'authentication_error', code: 'invalid_api_key' },
    });
  });
});
