import { exports } from 'cloudflare:workers';
import type { KeyRecord, KeySettings } from '../../lib/keys';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const adminAuth = { authorization: `Bearer ${ADMIN_KEY}` };

/** Creates a client key through the admin API, as an operator would. */
export async function createTestKey(body: KeySettings = {}): Promise<KeyRecord & { key: string }> {
  const res = await exports.default.fetch('http://gateway/admin/keys', {
    method: 'POST',
    headers: { ...adminAuth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `test-${crypto.randomUUID().slice(0, 8)}`, ...body }),
  });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
