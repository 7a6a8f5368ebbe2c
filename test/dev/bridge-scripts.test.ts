/// <reference types="vite/client" />
import { randomUUID } from 'node:crypto';
import { Redis as IORedis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createScriptMap, sha1Hex, stripUpstashFlags } from '../../dev/bridge/scripts.ts';
import { BACKENDS, useBridge } from '../support/node/bridge-fixture.ts';

// The gateway's own scripts, every one of which starts with the allow-key-locking flag.
const gatewayScripts = Object.values(
  import.meta.glob<Record<string, unknown>>('../../lib/scripts/*.ts', { eager: true }),
).flatMap((exports) =>
  Object.values(exports).filter(
    (v): v is { name: string; source: string } => typeof v === 'object' && v !== null && 'source' in v,
  ),
);

describe('stripUpstashFlags', () => {
  it('drops the whole shebang line when allow-key-locking was the only flag', () => {
    expect(stripUpstashFlags('#!lua flags=allow-key-locking\nreturn 1')).toBe('return 1');
    expect(stripUpstashFlags('#!lua flags=allow-key-locking\r\nreturn 1')).toBe('return 1');
    expect(stripUpstashFlags('#!lua flags=allow-key-locking')).toBe('');
  });

  it('keeps the other flags', () => {
    expect(stripUpstashFlags('#!lua flags=no-writes,allow-key-locking\nreturn 1')).toBe(
      '#!lua flags=no-writes\nreturn 1',
    );
    expect(stripUpstashFlags('#!lua flags=allow-key-locking,allow-stale,no-writes\nx')).toBe(
      '#!lua flags=allow-stale,no-writes\nx',
    );
  });

  it('leaves scripts without the flag untouched', () => {
    for (const script of [
      'return 1',
      '#!lua\nreturn 1',
      '#!lua flags=no-writes\nreturn 1',
      '-- #!lua flags=allow-key-locking',
    ]) {
      expect(stripUpstashFlags(script)).toBe(script);
    }
  });

  it('matches the hash @upstash/ratelimit hard-codes for its sliding-window script', async () => {
    // ratelimit pins SHA-1 of the script WITH the shebang; the bridge must key its map on that.
    const source = await import('node:fs').then((fs) =>
      fs.readFileSync(
        new URL('../../node_modules/@upstash/ratelimit/dist/index.mjs', import.meta.url),
        'utf8',
      ),
    );
    const script = /var slidingWindowLimitScript = `([^`]*)`/.exec(source)?.[1] ?? '';
    expect(script.startsWith('#!lua flags=allow-key-locking\n')).toBe(true);
    expect(sha1Hex(script)).toBe('74740bb3d7792848093cdef586b6b6037c455fd6');
    expect(stripUpstashFlags(script).startsWith('#!')).toBe(false);
  });
});

describe('createScriptMap', () => {
  const flagged = '#!lua flags=allow-key-locking\nreturn 1';
  const stripped = 'return 1';

  it('maps EVALSHA of the original SHA to the stripped script, with EVAL as the NOSCRIPT fallback', () => {
    const scripts = createScriptMap();
    expect(scripts.prepare(['evalsha', sha1Hex(flagged), '0']).command).toEqual([
      'evalsha',
      sha1Hex(flagged),
      '0',
    ]);
    expect(scripts.prepare(['eval', flagged, '1', 'k']).command).toEqual(['eval', stripped, '1', 'k']);
    expect(scripts.size).toBe(1);
    const prepared = scripts.prepare(['EVALSHA', sha1Hex(flagged).toUpperCase(), '1', 'k']);
    expect(prepared.command).toEqual(['EVALSHA', sha1Hex(stripped), '1', 'k']);
    expect(prepared.onNoScript).toEqual(['EVAL', stripped, '1', 'k']);
    expect(scripts.prepare(['evalsha_ro', sha1Hex(flagged), '0']).onNoScript).toEqual([
      'EVAL_RO',
      stripped,
      '0',
    ]);
    expect(scripts.prepare(['evalsha', sha1Hex(flagged), '0'], { inTransaction: true })).toEqual({
      command: ['EVAL', stripped, '0'],
    });
  });

  it('loads the stripped script but answers SCRIPT LOAD with the original SHA, maps EXISTS, forgets on FLUSH', () => {
    const scripts = createScriptMap();
    const load = scripts.prepare(['script', 'load', flagged]);
    expect(load.command).toEqual(['script', 'load', stripped]);
    expect(load.mapReply?.(Buffer.from(sha1Hex(stripped)))).toEqual(Buffer.from(sha1Hex(flagged)));
    expect(scripts.prepare(['SCRIPT', 'EXISTS', sha1Hex(flagged), 'abc']).command).toEqual([
      'SCRIPT',
      'EXISTS',
      sha1Hex(stripped),
      'abc',
    ]);
    scripts.prepare(['script', 'flush']);
    expect(scripts.size).toBe(0);
    expect(scripts.prepare(['evalsha', sha1Hex(flagged), '0']).onNoScript).toBeUndefined();
  });
});

describe.each(BACKENDS)('bridge on $name, script commands over HTTP', ({ options }) => {
  const token = `scripts-${randomUUID()}`;

  async function send(path: string, body: unknown) {
    const res = await fetch(`${bridge().url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as unknown };
  }
  const flaggedScript = () =>
    `#!lua flags=allow-key-locking\n-- ${randomUUID()}\nreturn redis.call('INCR', KEYS[1])`;
  const newKey = () => `test:bridge-scripts:${randomUUID()}`;

  const bridge = useBridge({ ...options, token, log: () => {} });

  it('answers SCRIPT LOAD of a flagged script with its ORIGINAL SHA, usable by EVALSHA and EXISTS', async () => {
    const script = flaggedScript();
    const key = newKey();
    expect(await send('/', ['script', 'load', script])).toEqual({
      status: 200,
      json: { result: sha1Hex(script) },
    });
    expect((await send('/', ['evalsha', sha1Hex(script), 1, key])).json).toEqual({ result: 1 });
    expect((await send('/', ['script', 'exists', sha1Hex(script), sha1Hex(randomUUID())])).json).toEqual({
      result: [1, 0],
    });
  });

  it('runs a mapped EVALSHA inside multi-exec and a pipeline', async () => {
    const script = flaggedScript();
    const key = newKey();
    await send('/', ['eval', script, 1, key]);
    const tx = await send('/multi-exec', [
      ['evalsha', sha1Hex(script), 1, key],
      ['get', key],
    ]);
    expect(tx.json).toEqual([{ result: 2 }, { result: '2' }]);
    const pipeline = await send('/pipeline', [
      ['evalsha', sha1Hex(script), 1, key],
      ['incr', key],
    ]);
    expect(pipeline.json).toEqual([{ result: 3 }, { result: 4 }]);
  });

  it('loads every gateway script (flagged) under its original SHA, and runs one', async () => {
    expect(gatewayScripts.length).toBeGreaterThanOrEqual(13);
    for (const { name, source } of gatewayScripts) {
      expect(source.startsWith('#!lua flags=allow-key-locking\n'), name).toBe(true);
      expect(await send('/', ['script', 'load', source]), name).toEqual({
        status: 200,
        json: { result: sha1Hex(source) },
      });
    }
    // The key lookup answers one JSON array of strings, built in Lua by hand: every value, however
    // awkward, reads back as itself.
    const lookup = gatewayScripts.find((s) => s.name === 'key-lookup')?.source ?? '';
    const key = newKey();
    const awkward = {
      a: '1',
      quote: 'say "hi"\\ \\n',
      control: 'tab\there\nline\u0000nul\u007f',
      unicode: 'Crème brûlée 🚲 ключ',
      json: '{"cached_at":1,"value":[1]}',
      empty: '',
    };
    await send('/', ['hset', key, ...Object.entries(awkward).flat()]);
    const fields = [...Object.keys(awkward), 'missing'];
    const res = await send('/', ['evalsha', sha1Hex(lookup), 1, key, ...fields]);
    const { result } = res.json as { result: string };
    expect(JSON.parse(result)).toEqual([...Object.values(awkward), null]);
  });

  it('keeps the other flags of a flagged script: no-writes still refuses a write on real Redis', async () => {
    const key = newKey();
    await send('/', ['set', key, 'v']);
    const read = `#!lua flags=allow-key-locking,no-writes\n-- ${randomUUID()}\nreturn redis.call('GET', KEYS[1])`;
    expect((await send('/', ['eval', read, 1, key])).json).toEqual({ result: 'v' });
    expect((await send('/', ['evalsha', sha1Hex(read), 1, key])).json).toEqual({ result: 'v' });
    const write = `#!lua flags=allow-key-locking,no-writes\n-- ${randomUUID()}\nreturn redis.call('SET', KEYS[1], 'w')`;
    const refused = await send('/', ['eval', write, 1, key]);
    // The embedded store ignores script flags; only a real Redis enforces no-writes.
    if (bridge().redisUrl) {
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.json)).toMatch(/Write commands are not allowed/);
      expect((await send('/', ['get', key])).json).toEqual({ result: 'v' });
    }
  });

  it('passes NOSCRIPT through for unknown SHAs and after SCRIPT FLUSH', async () => {
    // SCRIPT FLUSH empties the script cache of the whole Redis; clients only fall back to EVAL once.
    const script = flaggedScript();
    const key = newKey();
    await send('/', ['eval', script, 1, key]);
    expect((await send('/', ['script', 'flush'])).json).toEqual({ result: 'OK' });
    const res = await send('/', ['evalsha', sha1Hex(script), 1, key]);
    expect(res).toEqual({ status: 400, json: { error: 'NOSCRIPT No matching script. Please use EVAL.' } });
    const inPipeline = await send('/pipeline', [['evalsha', sha1Hex(script), 1, key]]);
    expect(inPipeline.json).toEqual([{ error: 'NOSCRIPT No matching script. Please use EVAL.' }]);
  });

  it('falls back to EVAL of the stripped script when Redis itself forgot it', async () => {
    const script = flaggedScript();
    const key = newKey();
    await send('/', ['eval', script, 1, key]);
    // Flush Redis's cache behind the bridge's back; the bridge still knows the stripped text. The
    // embedded store has no separate cache to flush, so there it checks the plain mapped path.
    const redisUrl = bridge().redisUrl;
    if (redisUrl) {
      const direct = new IORedis(redisUrl);
      await direct.script('FLUSH');
      direct.disconnect();
    }
    expect((await send('/', ['evalsha', sha1Hex(script), 1, key])).json).toEqual({ result: 2 });
  });
});
