/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';
import type { LuaScript } from '../../lib/scripts/run';
import { KEY_LOCKING_FLAG, keyProblems } from '../support/lua-keys';

// Every export of every script module that looks like a LuaScript, so a new script cannot skip this.
const modules = import.meta.glob<Record<string, unknown>>('../../lib/scripts/*.ts', { eager: true });
const isScript = (value: unknown): value is LuaScript =>
  typeof value === 'object' && value !== null && 'source' in value && 'sha1' in value;
const SCRIPTS = Object.values(modules).flatMap((exports) => Object.values(exports).filter(isScript));

describe('Lua scripts lock only their KEYS (Upstash allow-key-locking)', () => {
  it('finds the scripts', () => {
    expect(SCRIPTS.length).toBeGreaterThanOrEqual(13);
  });

  it.each(SCRIPTS.map((s) => [s.name, s] as const))(
    '%s declares the flag and takes every key from KEYS',
    (_, script) => {
      expect(script.source.split('\n')[0]).toBe(KEY_LOCKING_FLAG);
      expect(keyProblems(script.source)).toEqual([]);
    },
  );
});

describe('the key checker', () => {
  const flagged = (body: string) => `${KEY_LOCKING_FLAG}\n${body}`;

  it('accepts KEYS, locals and parameters bound only from KEYS, and `c and KEYS[i] or k`', () => {
    const script = `local a, n = KEYS[1], tonumber(ARGV[1])
local function touch(key, by) redis.call('HINCRBY', key, 'f', by) end
local b = n > 1 and KEYS[2] or a
touch(a, 1)
touch(KEYS[3 + n], 2)
redis.call('DEL', a, b, (KEYS[4]))`;
    expect(keyProblems(flagged(script))).toEqual([]);
  });

  it('reports a missing or different flag line', () => {
    expect(keyProblems("return redis.call('GET', KEYS[1])")).toHaveLength(1);
    expect(keyProblems("#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])")).toHaveLength(1);
  });

  it.each([
    ['a key built from strings', "redis.call('GET', 'metrics:' .. ARGV[1])"],
    ['a key from ARGV', "local k = ARGV[1]\nredis.call('GET', k)"],
    ['a key from a reply', "local k = redis.call('GET', KEYS[1])\nredis.call('DEL', k)"],
    ['a key from a loop', "for _, k in ipairs(KEYS) do redis.call('DEL', k) end"],
    ['a local rebound from ARGV', "local k = KEYS[1]\nif ARGV[1] then k = ARGV[1] end\nredis.call('GET', k)"],
    [
      'a local rebound after a plain statement',
      "local k = KEYS[1]\nlocal a = k\nk = ARGV[1]\nredis.call('GET', a)",
    ],
    [
      'a local rebound beside a table target',
      "local k = KEYS[1]\nlocal t = {}\nt[1], k = 1, ARGV[1]\nredis.call('GET', k)",
    ],
    ['a parameter passed a non-key', "local function f(k) redis.call('GET', k) end\nf(KEYS[1])\nf('x')"],
    ['a second key of DEL', "redis.call('DEL', KEYS[1], ARGV[1])"],
    ['a command the checker does not know', "redis.call('RENAME', KEYS[1], KEYS[2])"],
    ['a command that is not a literal', 'redis.call(ARGV[1], KEYS[1])'],
    ['redis.call taken as a value', "local call = redis.call\ncall('GET', 'x')"],
    ['a key through a table', "local t = {KEYS[1]}\nredis.call('GET', t[1])"],
  ])('rejects %s', (_, body) => {
    expect(keyProblems(flagged(body))).not.toEqual([]);
  });
});
