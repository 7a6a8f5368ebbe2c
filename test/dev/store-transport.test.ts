import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Redis } from '@upstash/redis/cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchCommands } from '../../lib/store-batch.ts';
import { restTransport } from '../../lib/store-transport.ts';
import { useBridge } from '../support/node/bridge-fixture.ts';

// The gateway's own Upstash REST request (lib/store-transport.ts) against the bridge, seen through a
// front that records what each request carried and can hold one back.

describe('restTransport', () => {
  const token = `transport-${randomUUID()}`;
  const bridge = useBridge({ backend: 'embedded', token, log: () => {} });
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  let holdNext = false;
  let pageNext = false;
  let front: Server;
  let frontUrl = '';

  beforeAll(async () => {
    front = createServer(async (req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      if (holdNext) {
        holdNext = false;
        return; // never answered: the client's timeout must end it
      }
      if (pageNext) {
        pageNext = false;
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><body>502 Bad Gateway</body></html>');
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const answer = await fetch(`${bridge().url}${req.url}`, {
        method: 'POST',
        headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      });
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(await answer.text());
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const address = front.address();
    frontUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
  });

  const client = (options: { token?: string; timeoutMs?: number; url?: string } = {}) => {
    const redis = new Redis({
      url: frontUrl,
      token: 'unused',
      enableTelemetry: false,
      enableAutoPipelining: false,
    });
    redis.use(
      restTransport({
        url: options.url ?? frontUrl,
        token: options.token ?? token,
        timeoutMs: options.timeoutMs ?? 2000,
      }),
    );
    redis.use(batchCommands());
    return redis;
  };

  it("sends a turn's commands and an explicit pipeline to /pipeline with the key, each reply parsed as the SDK does", async () => {
    const redis = client();
    const k = `test:transport:${randomUUID()}`;
    seen.length = 0;
    expect(await redis.set(k, '{"a":1}')).toBe('OK');
    expect(await Promise.all([redis.get(k), redis.incr(`${k}:n`)])).toEqual([{ a: 1 }, 1]);
    const direct = await redis.pipeline().get(k).exec();
    expect(direct).toEqual([{ a: 1 }]);
    expect(seen.map((s) => s.path)).toEqual(['/pipeline', '/pipeline', '/pipeline']);
    expect(seen.every((s) => s.headers.authorization === `Bearer ${token}`)).toBe(true);
  });

  it("sends each answer's read-your-writes token with the next request", async () => {
    const redis = client();
    seen.length = 0;
    await redis.ping();
    await redis.ping();
    await redis.ping();
    const sent = seen.map((s) => s.headers['upstash-sync-token']);
    // The first request of a fresh client has none; each later one carries the token just answered.
    expect(sent[0]).toBeUndefined();
    expect(Number(sent[1])).toBeGreaterThan(0);
    expect(Number(sent[2])).toBe(Number(sent[1]) + 1);
  });

  it("rejects a refused request with Upstash's message, and a command's own error with Redis's", async () => {
    await expect(client({ token: 'wrong' }).ping()).rejects.toMatchObject({
      name: 'UpstashError',
      message: expect.stringMatching(/^WRONGPASS/),
    });
    const redis = client();
    const k = `test:transport:${randomUUID()}`;
    await redis.hset(k, { f: 'v' });
    await expect(redis.incr(k)).rejects.toMatchObject({
      name: 'UpstashError',
      message: expect.stringMatching(/^WRONGTYPE/),
    });
  });

  it('aborts a request unanswered past its timeout, and the next one goes through', async () => {
    const redis = client({ timeoutMs: 300 });
    holdNext = true;
    const started = Date.now();
    await expect(redis.ping()).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(await redis.ping()).toBe('PONG');
  });

  it('takes a URL with a trailing slash as the SDK does', async () => {
    seen.length = 0;
    expect(await client({ url: `${frontUrl}/` }).ping()).toBe('PONG');
    expect(seen.map((x) => x.path)).toEqual(['/pipeline']);
  });

  it('rejects an answer that is not JSON with its status, keeping the last token for the next request', async () => {
    const redis = client();
    seen.length = 0;
    await redis.ping();
    pageNext = true;
    await expect(redis.ping()).rejects.toMatchObject({
      name: 'UpstashError',
      message: expect.stringMatching(/^Upstash answered HTTP 502 without JSON: <html>/),
    });
    expect(await redis.ping()).toBe('PONG');
    const sent = seen.map((x) => x.headers['upstash-sync-token']);
    expect(sent[2]).toBe(sent[1]);
    expect(Number(sent[1])).toBeGreaterThan(0);
  });
});
