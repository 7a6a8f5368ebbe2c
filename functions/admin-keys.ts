import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app';
import { createKey, listKeys, revokeKey } from '../lib/keys';
import { valid } from '../lib/validate';

export const NewKeyRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Requests per minute for this key; omitted means the gateway default. */
  rpm: z.number().int().min(1).max(1_000_000).nullish(),
  /** This key's own daily budget in USD; omitted means only the gateway budget applies. */
  daily_budget_usd: z.number().min(0).max(1_000_000).nullish(),
});

export const KeyId = z.object({ id: z.string().regex(/^key_[0-9a-f]{24}$/, 'is not a key id') });

/** `/admin/keys`: create (the only time a key is shown), list without secrets, revoke. */
export const adminKeys = new Hono<AppEnv>()
  .post('/admin/keys', valid('json', NewKeyRequest), async (c) => {
    const { redis, now } = c.get('deps');
    const created = await createKey(redis, c.req.valid('json'), now);
    c.get('log').info('api key created', { key_id: created.id, name: created.name });
    return c.json(created, 201, { 'cache-control': 'no-store' });
  })
  .get('/admin/keys', async (c) => {
    return c.json({ keys: await listKeys(c.get('deps').redis) });
  })
  .delete('/admin/keys/:id', valid('param', KeyId), async (c) => {
    const { redis, now } = c.get('deps');
    const revoked = await revokeKey(redis, c.req.valid('param').id, now);
    c.get('log').info('api key revoked', { key_id: revoked.id });
    return c.json(revoked);
  });
