import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app-env';
import { configOf } from '../lib/config';
import { InvalidRequestError } from '../lib/errors';
import { createKey, listKeys, revokeKey, updateKey } from '../lib/key-admin';
import { KEY_SCOPES } from '../lib/key-policy';
import { valid } from '../lib/validate';

/** What an admin may set on a key; an omitted field keeps its default (null sets it back to the default). */
const KeySettings = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Requests per minute for this key; null means KEY_RATE_LIMIT_RPM. */
  rpm: z.number().int().min(1).max(1_000_000).nullish(),
  /** Units of work per minute for this key; null means KEY_RATE_LIMIT_UPM. */
  upm: z.number().int().min(1).max(100_000_000).nullish(),
  /** This key's own daily budget in USD; null means its share of the gateway's. */
  daily_budget_usd: z.number().min(0).max(1_000_000).nullish(),
  /** Its share of the gateway's daily budget (0-1) when it has none of its own; null means KEY_BUDGET_SHARE. */
  budget_share: z.number().min(0).max(1).nullish(),
  /** The route scopes it may call; null means all of them. */
  scopes: z
    .array(z.enum(KEY_SCOPES))
    .min(1)
    .refine((s) => new Set(s).size === s.length, 'lists a scope twice')
    .nullish(),
  /** The models it may name through the proxy; null means any the gateway can price. */
  models: z
    .array(z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'is not a model name'))
    .min(1)
    .max(100)
    .refine((m) => new Set(m).size === m.length, 'lists a model twice')
    .nullish(),
});

const ownBudgetOrShare = (k: { daily_budget_usd?: number | null; budget_share?: number | null }) =>
  k.daily_budget_usd == null || k.budget_share == null;
const ONE_OF = { message: 'set daily_budget_usd or budget_share, not both', path: ['budget_share'] };

export const NewKeyRequest = KeySettings.refine(ownBudgetOrShare, ONE_OF);
export const KeyUpdate = KeySettings.partial().refine(ownBudgetOrShare, ONE_OF);

export const KeyId = z.object({ id: z.string().regex(/^key_[0-9a-f]{24}$/, 'is not a key id') });

/** `/admin/keys`: create (the only time a key is shown), list without secrets, change, revoke. */
export const adminKeys = new Hono<AppEnv>()
  .post('/admin/keys', valid('json', NewKeyRequest), async (c) => {
    const { redis, now } = c.get('deps');
    const input = c.req.valid('json');
    knownModels(c.get('env'), input.models);
    const created = await createKey(redis, input, now);
    c.get('log').info('api key created', { key_id: created.id, name: created.name });
    return c.json(created, 201, { 'cache-control': 'no-store' });
  })
  .get('/admin/keys', async (c) => {
    return c.json({ keys: await listKeys(c.get('deps').redis) });
  })
  .patch('/admin/keys/:id', valid('param', KeyId), valid('json', KeyUpdate), async (c) => {
    const settings = c.req.valid('json');
    knownModels(c.get('env'), settings.models);
    const updated = await updateKey(c.get('deps').redis, c.req.valid('param').id, settings);
    c.get('log').info('api key updated', { key_id: updated.id, fields: Object.keys(settings) });
    return c.json(updated);
  })
  .delete('/admin/keys/:id', valid('param', KeyId), async (c) => {
    const { redis, now } = c.get('deps');
    const revoked = await revokeKey(redis, c.req.valid('param').id, now);
    c.get('log').info('api key revoked', { key_id: revoked.id });
    return c.json(revoked);
  });

/** An allow-list names only models the gateway can price: a typo would lock the key out silently. */
function knownModels(env: AppEnv['Variables']['env'], models: string[] | null | undefined): void {
  const { prices } = configOf(env);
  const unknown = (models ?? []).filter((m) => !prices.price(m));
  if (unknown.length) {
    throw new InvalidRequestError({
      message: `No price is configured for ${unknown.join(', ')}; the gateway never calls such a model.`,
      param: 'models',
    });
  }
}
