import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../lib/app-env';
import {
  presentedKeyHash,
  presentsSecret,
  RECENT_BEARERS,
  REMEMBERED_BEARER_LENGTH,
  rememberedBearers,
} from '../../lib/caller';
import { hashKey } from '../../lib/keys';

const ADMIN = `admin-${crypto.randomUUID()}`;

/** Answers what the caller module says of the request's bearer. */
const app = new Hono<AppEnv>().post('/', async (c) => {
  c.set('env', { ADMIN_API_KEY: ADMIN } as AppEnv['Variables']['env']);
  const admin = await presentsSecret(c, ADMIN);
  return c.json({ admin, hash: await presentedKeyHash(c) });
});
const ask = async (bearer: string) =>
  (await (
    await app.request('/', { method: 'POST', headers: { authorization: `Bearer ${bearer}` } })
  ).json()) as {
    admin: boolean;
    hash: string;
  };

describe('the bearer digests an isolate remembers', () => {
  it('give the same answers as computing them afresh, for a key and for the admin key, however often asked', async () => {
    const key = `gw_${crypto.randomUUID().replaceAll('-', '')}`;
    for (let i = 0; i < 3; i++) {
      expect(await ask(key)).toEqual({ admin: false, hash: await hashKey(key) });
      expect(await ask(ADMIN)).toEqual({ admin: true, hash: await hashKey(ADMIN) });
    }
  });

  it('stay bounded under a flood of made-up bearers, and the oldest go first', async () => {
    const flood = Array.from({ length: RECENT_BEARERS + 200 }, () => `made-up-${crypto.randomUUID()}`);
    for (const bearer of flood) await ask(bearer);
    expect(rememberedBearers()).toBe(RECENT_BEARERS);
    // A forgotten bearer is hashed afresh, with the same answer.
    const first = flood[0] as string;
    expect(await ask(first)).toEqual({ admin: false, hash: await hashKey(first) });
    expect(rememberedBearers()).toBe(RECENT_BEARERS);
  });

  it('never hold a bearer longer than any key, however many arrive: each is hashed for its request alone', async () => {
    const before = rememberedBearers();
    const long = 'x'.repeat(REMEMBERED_BEARER_LENGTH + 1);
    for (let i = 0; i < 50; i++) {
      const bearer = `${long}${i}`;
      expect(await ask(bearer)).toEqual({ admin: false, hash: await hashKey(bearer) });
    }
    expect(rememberedBearers()).toBe(before);
  });
});
