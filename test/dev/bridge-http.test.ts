import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKENDS, useBridge } from '../support/node/bridge-fixture.ts';

// The wire protocol seen with raw fetch: status codes, exact bodies, headers, encoding and counters.

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe.each(BACKENDS)('bridge on $name, raw HTTP', ({ options }) => {
  const token = `http-${randomUUID()}`;
  const logs: string[] = [];
  const newPrefix = () => `test:bridge-http:${randomUUID()}`;

  async function send(
    path: string,
    body: unknown,
    init: { token?: string | null; base64?: boolean; method?: string } = {},
  ) {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    const auth = init.token === undefined ? token : init.token;
    if (auth !== null) headers.authorization = `Bearer ${auth}`;
    if (init.base64) headers['Upstash-Encoding'] = 'base64';
    const res = await fetch(`${bridge().url}${path}`, {
      method: init.method ?? 'POST',
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as unknown };
  }

  const bridge = useBridge({ ...options, token, log: (line) => logs.push(line) });

  it('listens on 127.0.0.1, reports its mode and warns loudly when embedded', async () => {
    expect(bridge().url).toBe(`http://127.0.0.1:${bridge().port}`);
    expect(bridge().token).toBe(token);
    if (options.backend === 'embedded') {
      expect(bridge().mode).toBe('embedded');
      expect(bridge().redisUrl).toBeUndefined();
      expect(logs.join('\n')).toMatch(/WARNING.*EMBEDDED[\s\S]*NOT real Redis/);
    } else {
      expect(['redis-server', 'redis-url']).toContain(bridge().mode);
      expect(bridge().redisUrl).toMatch(/^rediss?:\/\//);
      expect(logs.join('\n')).not.toMatch(/WARNING/);
    }
    const health = await send('/', undefined, { method: 'GET', token: null });
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ ok: true, mode: bridge().mode });
  });

  describe('auth', () => {
    it.each(['/', '/pipeline', '/multi-exec'])(
      'answers 401 with the exact Upstash body on %s',
      async (path) => {
        const body = path === '/' ? ['get', 'k'] : [['get', 'k']];
        for (const auth of [null, 'wrong', `${token}x`, '']) {
          const res = await send(path, body, { token: auth });
          expect(res.status).toBe(401);
          expect(res.text).toBe('{"error":"WRONGPASS invalid or missing auth token"}');
          expect(res.headers.get('content-type')).toBe('application/json');
        }
      },
    );
  });

  describe('routing and malformed requests', () => {
    it.each([
      ['not JSON', '/', '{"get'],
      ['an object', '/', { cmd: 'get' }],
      ['an empty command', '/', []],
      ['an object argument', '/', ['set', 'k', { a: 1 }]],
      ['a nested array argument', '/', ['set', 'k', ['v']]],
      ['an empty pipeline', '/pipeline', []],
      ['a pipeline of strings', '/pipeline', ['get', 'k']],
      ['a pipeline with an empty command', '/pipeline', [['get', 'k'], []]],
      ['an empty transaction', '/multi-exec', []],
      [
        'WATCH in a transaction',
        '/multi-exec',
        [
          ['watch', 'k'],
          ['get', 'k'],
        ],
      ],
      ['MULTI in a transaction', '/multi-exec', [['multi'], ['get', 'k']]],
      ['EXEC in a transaction', '/multi-exec', [['get', 'k'], ['EXEC']]],
      ['DISCARD in a transaction', '/multi-exec', [['discard']]],
      ['UNWATCH in a transaction', '/multi-exec', [['unwatch']]],
      ['BLPOP', '/', ['blpop', 'k', 0]],
      ['SUBSCRIBE', '/', ['subscribe', 'ch']],
      ['MONITOR', '/', ['MONITOR']],
      ['BZPOPMIN', '/', ['bzpopmin', 'k', 1]],
    ])('answers 400 {"error":"ERR …"} for %s', async (_, path, body) => {
      const res = await send(path, body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: expect.stringMatching(/^ERR /) });
      expect(res.headers.get('content-type')).toBe('application/json');
    });

    it('refuses a blocking command inside a pipeline as that entry only', async () => {
      const k = `${newPrefix()}:k`;
      const res = await send('/pipeline', [
        ['set', k, 'v'],
        ['brpop', k, 1],
        ['get', k],
      ]);
      expect(res.status).toBe(200);
      expect(res.json).toEqual([
        { result: 'OK' },
        { error: expect.stringMatching(/^ERR .*brpop/) },
        { result: 'v' },
      ]);
    });

    it('answers 404 for unknown paths and 405 for unsupported methods, always as JSON', async () => {
      const notFound = await send('/nope', ['get', 'k']);
      expect(notFound.status).toBe(404);
      expect(notFound.json).toEqual({ error: expect.any(String) });
      expect(notFound.headers.get('content-type')).toBe('application/json');
      for (const [method, path] of [
        ['GET', '/pipeline'],
        ['PUT', '/'],
        ['DELETE', '/multi-exec'],
        ['GET', '/_bridge/reset'],
        ['POST', '/_bridge/stats'],
      ]) {
        const res = await send(path as string, undefined, { method });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.json).toEqual({ error: expect.any(String) });
        expect(res.headers.get('content-type')).toBe('application/json');
      }
    });

    it('returns an increasing upstash-sync-token on every response', async () => {
      const first = Number((await send('/', ['ping'])).headers.get('upstash-sync-token'));
      const second = Number(
        (await send('/', ['ping'], { token: 'wrong' })).headers.get('upstash-sync-token'),
      );
      expect(first).toBeGreaterThan(0);
      expect(second).toBeGreaterThan(first);
    });
  });

  describe('commands and replies', () => {
    it('stringifies numbers, booleans and null, and treats command names case-insensitively', async () => {
      const p = newPrefix();
      const res = await send('/pipeline', [
        ['SeT', `${p}:n`, 10],
        ['set', `${p}:f`, 1.5],
        ['SET', `${p}:t`, true],
        ['set', `${p}:z`, null],
        ['mGeT', `${p}:n`, `${p}:f`, `${p}:t`, `${p}:z`, `${p}:missing`],
        ['incrby', `${p}:n`, 5],
      ]);
      expect(res.text).toBe(
        '[{"result":"OK"},{"result":"OK"},{"result":"OK"},{"result":"OK"},' +
          '{"result":["10","1.5","true","null",null]},{"result":15}]',
      );
    });

    it('always sends the result key, null included, and 400 with the Redis error text', async () => {
      const p = newPrefix();
      expect((await send('/', ['get', `${p}:missing`])).text).toBe('{"result":null}');
      await send('/', ['hset', `${p}:h`, 'f', 'v']);
      const wrongType = await send('/', ['incr', `${p}:h`]);
      expect(wrongType.status).toBe(400);
      expect(wrongType.json).toEqual({
        error: 'WRONGTYPE Operation against a key holding the wrong kind of value',
      });
      const noScript = await send('/', ['evalsha', 'ffffffffffffffffffffffffffffffffffffffff', 0]);
      expect(noScript.status).toBe(400);
      expect(noScript.json).toEqual({ error: expect.stringMatching(/^NOSCRIPT /) });
      const unknown = await send('/', ['nosuchcommand', 'x']);
      expect(unknown.status).toBe(400);
      expect(unknown.json).toEqual({ error: expect.stringMatching(/^ERR unknown command 'nosuchcommand'/) });
    });

    it('base64-encodes every string in results, OK/PONG and nested ones included, but not numbers or errors', async () => {
      const p = newPrefix();
      const single = await send('/', ['set', `${p}:u`, 'héllo 🌍'], { base64: true });
      expect(single.text).toBe(`{"result":"${b64('OK')}"}`);
      expect((await send('/', ['ping'], { base64: true })).json).toEqual({ result: b64('PONG') });
      expect((await send('/', ['get', `${p}:u`], { base64: true })).json).toEqual({
        result: b64('héllo 🌍'),
      });
      const pipeline = await send(
        '/pipeline',
        [
          ['incr', `${p}:n`],
          ['get', `${p}:missing`],
          ['eval', 'return {"OK", 7, {"deep"}}', 0],
          ['incr', `${p}:u`],
        ],
        { base64: true },
      );
      expect(pipeline.json).toEqual([
        { result: 1 },
        { result: null },
        { result: [b64('OK'), 7, [b64('deep')]] },
        { error: 'ERR value is not an integer or out of range' },
      ]);
      const tx = await send('/multi-exec', [['set', `${p}:k`, 'v'], ['ping'], ['get', `${p}:k`]], {
        base64: true,
      });
      expect(tx.json).toEqual([{ result: b64('OK') }, { result: b64('PONG') }, { result: b64('v') }]);
    });

    it('serves raw UTF-8 strings without the base64 header', async () => {
      const p = newPrefix();
      await send('/', ['set', `${p}:u`, 'héllo 🌍']);
      expect((await send('/', ['get', `${p}:u`])).json).toEqual({ result: 'héllo 🌍' });
      expect((await send('/', ['ping'])).json).toEqual({ result: 'PONG' });
    });

    it('base64-encodes the raw bytes on real Redis; the embedded store is not binary-safe (documented)', async () => {
      const k = `${newPrefix()}:bits`;
      const res = await send(
        '/pipeline',
        [
          ['eval', 'return string.char(255, 0, 65)', 0],
          ['setbit', k, 0, 1],
          ['setbit', k, 7, 1],
          ['get', k],
        ],
        { base64: true },
      );
      const [bytes, , , bits] = res.json as { result: string }[];
      if (options.backend === 'embedded') {
        // Strings are JS strings there: bytes that are not UTF-8 become U+FFFD.
        expect(bytes?.result).toBe(b64('\ufffd\u0000A'));
      } else {
        expect(bytes?.result).toBe(Buffer.from([0xff, 0x00, 0x41]).toString('base64'));
        expect(bits?.result).toBe(Buffer.from([0x81]).toString('base64'));
      }
    });

    it('keeps integers exact on real Redis; the embedded store is limited to 2^53 (documented)', async () => {
      const k = `${newPrefix()}:big`;
      const res = await send('/', ['incrby', k, '9007199254740993']);
      const expected = options.backend === 'embedded' ? '9007199254740992' : '9007199254740993';
      expect(res.text).toBe(`{"result":${expected}}`);
    });

    it('runs multi-exec, keeps runtime errors per entry, and answers 400 EXECABORT on queueing errors', async () => {
      const p = newPrefix();
      await send('/', ['hset', `${p}:h`, 'f', 'v']);
      const ok = await send('/multi-exec', [
        ['incr', `${p}:n`],
        ['incr', `${p}:h`],
        ['incr', `${p}:n`],
      ]);
      expect(ok.status).toBe(200);
      expect(ok.json).toEqual([{ result: 1 }, { error: expect.stringMatching(/^WRONGTYPE/) }, { result: 2 }]);
      const aborted = await send('/multi-exec', [['set', `${p}:k`, 'v'], ['nosuchcommand'], ['get']]);
      expect(aborted.status).toBe(400);
      expect(aborted.json).toEqual({ error: expect.stringMatching(/^EXECABORT /) });
      expect((await send('/', ['get', `${p}:k`])).json).toEqual({ result: null });
    });
  });

  describe('stats', () => {
    it('counts Upstash requests and Redis commands, not control or health calls, and resets', async () => {
      const p = newPrefix();
      const reset = await send('/_bridge/reset', undefined);
      expect(reset.status).toBe(200);
      expect(reset.json).toEqual({ ok: true });
      const stats = async () =>
        (await send('/_bridge/stats', undefined, { method: 'GET', token: null })).json;
      expect(await stats()).toEqual({ requests: 0, commands: 0 });

      await send('/', ['set', `${p}:k`, 'v']);
      await send('/pipeline', [
        ['get', `${p}:k`],
        ['incr', `${p}:n`],
        ['incr', `${p}:n`],
      ]);
      await send('/multi-exec', [
        ['get', `${p}:k`],
        ['incr', `${p}:n`],
      ]);
      expect(await stats()).toEqual({ requests: 3, commands: 6 });
      expect(bridge().stats()).toEqual({ requests: 3, commands: 6 });

      await send('/', ['get', 'k'], { token: 'wrong' });
      await send('/pipeline', 'not json');
      await send('/', ['blpop', 'k', 0]);
      await send('/', undefined, { method: 'GET' });
      expect(await stats()).toEqual({ requests: 6, commands: 6 });

      await send('/_bridge/reset', undefined);
      expect(bridge().stats()).toEqual({ requests: 0, commands: 0 });
    });
  });
});
