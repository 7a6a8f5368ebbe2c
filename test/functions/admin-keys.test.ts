import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../lib/errors';
import type { KeyRecord } from '../../lib/keys';
import { adminAuth, bearer, createTestKey } from '../support/keys';

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(`http://gateway${path}`, init);
const post = (body: unknown, headers: Record<string, string> = adminAuth) =>
  call('/admin/keys', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('POST /admin/keys', () => {
  it('creates a key, shows it once with its settings, and the key works at once', async () => {
    const res = await post({ name: 'storefront', rpm: 120, daily_budget_usd: 5 });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const created = await res.json<KeyRecord & { key: string }>();
    expect(created).toMatchObject({ name: 'storefront', rpm: 120, daily_budget_usd: 5, revoked_at: null });
    expect(created.id).toMatch(/^key_[0-9a-f]{24}$/);
    expect(created.key).toMatch(/^cag_[A-Za-z0-9_-]{43}$/);
    // Authenticated and rate limited: an unknown route under /v1 is a 404, not a 401.
    const probe = await call('/v1/does-not-exist', { headers: bearer(created.key) });
    expect(probe.status).toBe(404);
    expect(probe.headers.get('x-ratelimit-limit')).toBe('120');
  });

  it('defaults rpm and budget to null (the gateway defaults apply)', async () => {
    const created = await createTestKey();
    expect(created).toMatchObject({ rpm: null, daily_budget_usd: null });
    const probe = await call('/v1/does-not-exist', { headers: bearer(created.key) });
    expect(probe.headers.get('x-ratelimit-limit')).toBe('60');
  });

  it.each([
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 'x', rpm: 0 }, 'rpm'],
    [{ name: 'x', rpm: 1.5 }, 'rpm'],
    [{ name: 'x', daily_budget_usd: -1 }, 'daily_budget_usd'],
    [{ name: 'x', admin: true }, 'admin'],
  ])('rejects %j with 400 naming the field', async (body, param) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await post('{"name":');
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.type).toBe('invalid_request_error');
  });

  it('refuses without the admin key (401) and with a client key (403)', async () => {
    expect((await post({ name: 'x' }, {})).status).toBe(401);
    expect((await post({ name: 'x' }, { authorization: 'Bearer wrong-admin-key-000000' })).status).toBe(401);
    const client = await createTestKey();
    const res = await post({ name: 'x' }, bearer(client.key));
    expect(res.status).toBe(403);
    expect((await res.json<ErrorBody>()).error.code).toBe('permission_denied');
  });
});

describe('GET /admin/keys', () => {
  it('lists keys without secrets or hashes', async () => {
    const created = await createTestKey({ rpm: 7 });
    const res = await call('/admin/keys', { headers: adminAuth });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(created.key);
    const { keys } = JSON.parse(text) as { keys: KeyRecord[] };
    const listed = keys.find((k) => k.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      name: created.name,
      created_at: created.created_at,
      rpm: 7,
      upm: null,
      daily_budget_usd: null,
      budget_share: null,
      scopes: null,
      models: null,
      revoked_at: null,
    });
    expect(Object.keys(listed ?? {})).not.toContain('key');
  });
});

describe('DELETE /admin/keys/:id', () => {
  it('revokes a key for the very next request', async () => {
    const created = await createTestKey();
    expect((await call('/v1/x', { headers: bearer(created.key) })).status).toBe(404);
    const res = await call(`/admin/keys/${created.id}`, { method: 'DELETE', headers: adminAuth });
    expect(res.status).toBe(200);
    expect((await res.json<KeyRecord>()).revoked_at).not.toBeNull();
    const after = await call('/v1/x', { headers: bearer(created.key) });
    expect(after.status).toBe(401);
    expect((await after.json<ErrorBody>()).error).toMatchObject({
      type: 'authentication_error',
      code: 'invalid_api_key',
    });
    const listed = await (await call('/admin/keys', { headers: adminAuth })).json<{ keys: KeyRecord[] }>();
    expect(listed.keys.find((k) => k.id === created.id)?.revoked_at).not.toBeNull();
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const unknown = await call('/admin/keys/key_000000000000000000000000', {
      method: 'DELETE',
      headers: adminAuth,
    });
    expect(unknown.status).toBe(404);
    const malformed = await call('/admin/keys/nope', { method: 'DELETE', headers: adminAuth });
    expect(malformed.status).toBe(400);
  });
});
