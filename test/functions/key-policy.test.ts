/**
 * What a client key may do beyond being live, through the HTTP API: its scopes, its model allow-list,
 * its budget share and its units of work per minute (lib/key-policy.ts, lib/unit-limit.ts).
 */

import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import type { ErrorBody } from '../../lib/errors';
import type { KeyRecord } from '../../lib/keys';
import { redisKey } from '../../lib/store';
import { bindings } from '../support/env';
import { adminAuth, bearer, createTestKey } from '../support/keys';
import { simConfigure, simKey, simRequests } from '../support/providers';
import { countingClient } from '../support/redis';
import { proxyCaller } from './openai-proxy.support';

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(`http://gateway${path}`, init);
const postJson = (path: string, key: string, body: unknown) =>
  call(path, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const patchKey = (id: string, body: unknown) =>
  call(`/admin/keys/${id}`, {
    method: 'PATCH',
    headers: { ...adminAuth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const chat = (model = 'gpt-4.1-mini', max = 50) => ({
  model,
  messages: [{ role: 'user', content: 'Name a trail shoe' }],
  max_completion_tokens: max,
});
const errorOf = async (res: Response) => (await res.json<ErrorBody>()).error;

describe('key scopes', () => {
  it('refuses each route outside the key scopes with 403, whatever the body, and calls nothing upstream', async () => {
    const domainOnly = await proxyCaller({}, { scopes: ['domain'] });
    for (const res of [
      await domainOnly.raw('/chat/completions', chat()),
      await domainOnly.raw('/chat/completions', { garbled: true }),
      await call('/openai/v1/models', { headers: bearer(domainOnly.key) }),
      await postJson('/v1/batches', domainOnly.key, { task: 'opportunities', items: [] }),
    ]) {
      expect(res.status).toBe(403);
      expect(await errorOf(res)).toMatchObject({ type: 'permission_error', code: 'scope_not_allowed' });
    }
    // Its own budget needs no scope; a domain route works.
    expect((await call('/v1/budget', { headers: bearer(domainOnly.key) })).status).toBe(200);
    const moderated = await postJson('/v1/moderate', domainOnly.key, { text: 'A sturdy trail shoe' });
    expect(moderated.status).toBe(200);

    const proxyOnly = await proxyCaller({}, { scopes: ['proxy'] });
    const refused = await postJson('/v1/opportunities', proxyOnly.key, { intent: 'Boots for the rain' });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe('scope_not_allowed');
    expect((await proxyOnly.raw('/chat/completions', chat())).status).toBe(200);
    await proxyOnly.settled();
    expect(await simRequests(domainOnly.sim)).toEqual({});
  });

  it('lets a key made before scopes existed (no scopes, models or share stored) call every scope', async () => {
    const { key, id } = await createTestKey();
    // The record as the gateway wrote it before this change: only the original six fields.
    const redis = countingClient().redis;
    const index = await redis.hget<string>(redisKey('apikeys'), id);
    await redis.hdel(redisKey('apikey', index ?? ''), 'upm', 'budget_share', 'scopes', 'models');
    expect((await call('/openai/v1/models', { headers: bearer(key) })).status).toBe(200);
    expect((await call('/v1/batches/bjob_0123456789abcdef', { headers: bearer(key) })).status).toBe(404);
    expect((await postJson('/v1/moderate', key, { text: 'A sturdy trail shoe' })).status).toBe(200);
    const listed = (await (await call('/admin/keys', { headers: adminAuth })).json<{ keys: KeyRecord[] }>())
      .keys;
    expect(listed.find((k) => k.id === id)).toMatchObject({ scopes: null, models: null, budget_share: null });
  });

  it('takes a scope change on the next request (PATCH /admin/keys/:id)', async () => {
    const { key, id } = await createTestKey({ scopes: ['domain'] });
    expect((await call('/openai/v1/models', { headers: bearer(key) })).status).toBe(403);
    const changed = await patchKey(id, { scopes: ['domain', 'proxy'] });
    expect(changed.status).toBe(200);
    expect(await changed.json<KeyRecord>()).toMatchObject({ id, scopes: ['domain', 'proxy'] });
    expect((await call('/openai/v1/models', { headers: bearer(key) })).status).toBe(200);
    await patchKey(id, { scopes: null });
    expect((await call('/v1/batches/bjob_0123456789abcdef', { headers: bearer(key) })).status).toBe(404);
  });

  it('keeps a budget of its own and a share exclusive: setting one by PATCH clears the other', async () => {
    const { id, key } = await createTestKey({ daily_budget_usd: 5 });
    const shared = await (await patchKey(id, { budget_share: 0.5 })).json<KeyRecord>();
    expect(shared).toMatchObject({ daily_budget_usd: null, budget_share: 0.5 });
    expect(
      (await (await call('/v1/budget', { headers: bearer(key) })).json<{ limit_usd: number }>()).limit_usd,
    ).toBe(50);
    const own = await (await patchKey(id, { daily_budget_usd: 2 })).json<KeyRecord>();
    expect(own).toMatchObject({ daily_budget_usd: 2, budget_share: null });
    const listed = (await (await call('/admin/keys', { headers: adminAuth })).json<{ keys: KeyRecord[] }>())
      .keys;
    expect(listed.find((k) => k.id === id)).toMatchObject({ daily_budget_usd: 2, budget_share: null });
  });

  it.each([
    [{ scopes: [] }, 'scopes'],
    [{ scopes: ['admin'] }, 'scopes.0'],
    [{ scopes: ['proxy', 'proxy'] }, 'scopes'],
    [{ models: ['no-such-model'] }, 'models'],
    [{ models: [] }, 'models'],
    [{ daily_budget_usd: 1, budget_share: 0.5 }, 'budget_share'],
    [{ budget_share: 1.5 }, 'budget_share'],
    [{ upm: 0 }, 'upm'],
  ])(
    'refuses key settings %j with 400 naming the field, on create and on change',
    async (settings, param) => {
      const created = await call('/admin/keys', {
        method: 'POST',
        headers: { ...adminAuth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', ...settings }),
      });
      expect(created.status).toBe(400);
      expect((await errorOf(created)).param).toBe(param);
      const { id } = await createTestKey();
      const changed = await patchKey(id, settings);
      expect(changed.status).toBe(400);
      expect((await errorOf(changed)).param).toBe(param);
    },
  );
});

describe('model allow-lists', () => {
  it('refuses a model the key may not use with 403 before any upstream call, and lists only its models', async () => {
    const { raw, key, sim, settled } = await proxyCaller({}, { models: ['gpt-4.1-mini'] });
    const refused = await raw('/chat/completions', chat('gpt-6-luna'));
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toMatchObject({ code: 'model_not_allowed', param: 'model' });
    expect(await simRequests(sim)).toEqual({});
    expect((await raw('/chat/completions', chat('gpt-4.1-mini'))).status).toBe(200);
    // A dated snapshot of an allowed model is that model.
    expect((await raw('/chat/completions', chat('gpt-4.1-mini-2025-04-14'))).status).toBe(200);
    await settled();
    const list = await (await call('/openai/v1/models', { headers: bearer(key) })).json<{
      data: { id: string }[];
    }>();
    expect(list.data.map((m) => m.id)).toEqual(['gpt-4.1-mini']);
    expect((await call('/openai/v1/models/gpt-6-luna', { headers: bearer(key) })).status).toBe(404);
  });
});

describe('model allow-lists and backups', () => {
  it("never lets a backup answer with a model the key's allow-list does not name", async () => {
    const backupKey = simKey();
    // A model no other test calls, so its breaker in the shared Redis is this test's own.
    const model = 'gpt-5.5';
    const backups = (backupModel: string) =>
      JSON.stringify([
        {
          name: `b-${crypto.randomUUID().slice(0, 8)}`,
          base_url: `${bindings.SIMULATOR_URL}/v1`,
          api_key_env: 'BACKUP_SIM_KEY',
          models: { text: backupModel },
        },
      ]);
    const overrides = { OPENAI_MAX_RETRIES: '0', BACKUP_SIM_KEY: backupKey };
    const primaryDown = { faults: [{ kind: 'status', status: 503, endpoint: '/v1/chat/completions' }] };
    // The backup runs gpt-6-luna, which this key may not use: the outage is the key's answer.
    const held = await proxyCaller(
      { ...overrides, BACKUP_PROVIDERS: backups('gpt-6-luna') },
      { models: [model] },
    );
    await simConfigure(held.sim, primaryDown);
    const refused = await held.raw('/chat/completions', chat(model));
    expect(refused.status).toBe(502);
    expect((await errorOf(refused)).code).toBe('upstream_error');
    expect(await simRequests(backupKey)).toEqual({});
    // A backup on an allowed model serves as usual.
    const allowed = await proxyCaller(
      { ...overrides, BACKUP_PROVIDERS: backups('gpt-4.1-mini') },
      { models: [model, 'gpt-4.1-mini'] },
    );
    await simConfigure(allowed.sim, primaryDown);
    const served = await allowed.raw('/chat/completions', chat(model));
    expect(served.status).toBe(200);
    expect(served.headers.get('x-gateway-model')).toBe('gpt-4.1-mini');
  });
});

describe('budget shares', () => {
  it("caps a key at its share of the gateway's budget, quoting only its own figures", async () => {
    // $100 × 0.00001 = $0.001: one call capped at 20,000 output tokens of gpt-4.1-mini ($0.032) cannot fit.
    const { raw, id, sim } = await proxyCaller({}, { budget_share: 0.000_01 });
    const res = await raw('/chat/completions', chat('gpt-4.1-mini', 20_000));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const error = await errorOf(res);
    expect(error.code).toBe('budget_exceeded');
    expect(error.message).toContain(`key ${id}`);
    expect(error.message).toContain('of $0.001000');
    expect(error.message).not.toMatch(/gateway|\$100/);
    expect(await simRequests(sim)).toEqual({});
  });
});

describe('budget refusals', () => {
  it("tell a client key refused by the gateway's budget only that it was, never the gateway's figures", async () => {
    const { raw, sim } = await proxyCaller({ OPENAI_DAILY_BUDGET_USD: '0.0001' }, { budget_share: 1 });
    const res = await raw('/chat/completions', chat('gpt-4.1-mini', 2_000));
    expect(res.status).toBe(429);
    const { message } = await errorOf(res);
    expect(message).toMatch(
      /^The daily budget of the gateway cannot cover this request: this call may cost up to \$[0-9.]+\. It resets at /,
    );
    expect(message).not.toMatch(/spent|reserved|0\.0001/);
    expect(await simRequests(sim)).toEqual({});
  });
});

describe('units of work per minute', () => {
  // The unit limit fails open when Redis is slower than REDIS_TIMEOUT_MS; these tests are about its
  // arithmetic, so a loaded machine must not turn a refusal into an allowance.
  const NO_FAIL_OPEN = { REDIS_TIMEOUT_MS: '30000' };

  it('counts embedding inputs: over its units a key gets 429 with Retry-After; cache hits take none', async () => {
    const { raw, sim, settled } = await proxyCaller(NO_FAIL_OPEN, { upm: 5 });
    const three = { model: 'text-embedding-3-small', input: ['red boots', 'blue boots', 'green boots'] };
    const first = await raw('/embeddings', three);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-remaining-units')).toBe('2');
    await settled();
    // The same request again is a cache hit: a request, not units.
    const hit = await raw('/embeddings', three);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    const other = await raw('/embeddings', { ...three, input: ['red hats', 'blue hats', 'green hats'] });
    expect(other.status).toBe(429);
    expect(await errorOf(other)).toMatchObject({ type: 'rate_limit_error', code: 'unit_limit_exceeded' });
    // Three units at five a minute refill in 36 s.
    expect(other.headers.get('retry-after')).toBe('36');
    // Two still fit, and nothing refused reached the provider.
    expect((await raw('/embeddings', { ...three, input: ['red caps', 'blue caps'] })).status).toBe(200);
    await settled();
    expect((await simRequests(sim))['/v1/embeddings']).toBe(2);
  });

  it('holds under concurrency: 12 simultaneous one-input requests against 5 units serve exactly 5', async () => {
    const { raw, sim, settled } = await proxyCaller(NO_FAIL_OPEN, { upm: 5 });
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        raw('/embeddings', {
          model: 'text-embedding-3-small',
          input: `boots no. ${i} ${crypto.randomUUID()}`,
        }).then((r) => r.status),
      ),
    );
    await settled();
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect((await simRequests(sim))['/v1/embeddings']).toBe(5);
  });

  it('counts a thousand tokens as reserved (prompt + output cap); more than the key may ever start is 413', async () => {
    const { raw, sim } = await proxyCaller(NO_FAIL_OPEN, { upm: 4 });
    const tooBig = await raw('/chat/completions', chat('gpt-4.1-mini', 4_000));
    expect(tooBig.status).toBe(413);
    expect(await errorOf(tooBig)).toMatchObject({ code: 'units_exceed_limit' });
    const fits = await raw('/chat/completions', chat('gpt-4.1-mini', 2_500));
    expect(fits.status).toBe(200);
    expect(fits.headers.get('x-ratelimit-remaining-units')).toBe('1');
    expect((await raw('/chat/completions', chat('gpt-4.1-mini', 2_500))).status).toBe(429);
    expect((await simRequests(sim))['/v1/chat/completions']).toBe(1);
  });

  it("counts a domain generation's tokens as reserved, before any upstream call", async () => {
    const { key } = await createTestKey({ upm: 1 });
    const res = await postJson('/v1/opportunities', key, {
      intent: `Boots for the rain ${uniqueWord()}`,
    });
    // An opportunity set reserves its prompt and a cap of more than a thousand tokens.
    expect(res.status).toBe(413);
    expect((await errorOf(res)).message).toMatch(
      /needs [2-9]\d* units of work; this key may start 1 per minute/,
    );
  });

  it('counts a bulk job by its items', async () => {
    const { key } = await createTestKey({ upm: 2 });
    const items = ['Boots for the rain', 'A tent for two', 'A stove for camping'].map((intent) => ({
      intent,
    }));
    const res = await postJson('/v1/batches', key, { task: 'opportunities', items });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('units_exceed_limit');
  });
});
