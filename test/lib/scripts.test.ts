import { describe, expect, it } from 'vitest';
import { BREAKER_ACQUIRE, BREAKER_RECORD } from '../../lib/scripts/breaker';
import { BUDGET_RESERVE, BUDGET_SETTLE } from '../../lib/scripts/budget';
import { BUDGET_ARCHIVE } from '../../lib/scripts/budget-archive';
import { BUDGET_RELEASE, BUDGET_RENEW } from '../../lib/scripts/budget-lease';
import { BUDGET_READ } from '../../lib/scripts/budget-read';
import { CACHE_FINISH, CACHE_LOOKUP, CACHE_RENEW } from '../../lib/scripts/cache';
import { KEY_LOOKUP } from '../../lib/scripts/keys';
import { METRICS_ADD } from '../../lib/scripts/metrics';
import type { LuaScript } from '../../lib/scripts/run';

// Every Lua script the gateway runs by EVALSHA; add new ones here so their pinned hash is checked.
const SCRIPTS: LuaScript[] = [
  KEY_LOOKUP,
  BREAKER_ACQUIRE,
  BREAKER_RECORD,
  BUDGET_RESERVE,
  BUDGET_SETTLE,
  BUDGET_RELEASE,
  BUDGET_RENEW,
  BUDGET_READ,
  BUDGET_ARCHIVE,
  CACHE_LOOKUP,
  CACHE_FINISH,
  CACHE_RENEW,
  METRICS_ADD,
];

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

describe('Lua scripts', () => {
  it.each(SCRIPTS.map((s) => [s.name, s] as const))(
    'pins the SHA-1 of %s to its source',
    async (_, script) => {
      expect(script.sha1).toMatch(/^[0-9a-f]{40}$/);
      expect(await sha1Hex(script.source)).toBe(script.sha1);
    },
  );

  it('gives every script a distinct name and source', () => {
    expect(new Set(SCRIPTS.map((s) => s.name)).size).toBe(SCRIPTS.length);
    expect(new Set(SCRIPTS.map((s) => s.sha1)).size).toBe(SCRIPTS.length);
  });
});
