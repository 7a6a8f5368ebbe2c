import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionLog } from '../connection-log.ts';
import { BadRequestError, parseBatch, parseSingle } from './commands.ts';
import { renderError, renderOutcome, renderOutcomes } from './encoding.ts';
import type { BridgeStats, Executor } from './executor.ts';

export interface HandlerOptions {
  token: string;
  executor: Executor;
  stats: BridgeStats;
  /** Shown by the `GET /` health check. */
  mode: string;
  /** Every Upstash request's interval, for `GET /_bridge/connections`. */
  connections: ConnectionLog;
  log: (line: string) => void;
  /** Delay before each Upstash request is run and answered: one network round trip. @default 0 */
  latencyMs?: number;
}

type Reply = { status: number; body: string; allow?: string };

const UPSTASH_PATHS = new Set(['/', '/pipeline', '/multi-exec']);
const WRONGPASS = 'WRONGPASS invalid or missing auth token';

/**
 * The HTTP side of the bridge: routes `POST /`, `/pipeline` and `/multi-exec` (bearer auth, JSON bodies,
 * Upstash replies), `GET /` health and the open `/_bridge/stats`, `/_bridge/connections` (each Upstash
 * request's [arrival, headers] interval in epoch ms) and `/_bridge/reset` control endpoints.
 * Every response is JSON and carries an `upstash-sync-token` (a counter: one Redis is always in sync).
 */
export function createRequestHandler(options: HandlerOptions) {
  const expectedAuth = digest(`Bearer ${options.token}`);
  let syncToken = 0;

  async function route(req: IncomingMessage, path: string): Promise<Reply> {
    const method = req.method ?? 'GET';
    if (path === '/_bridge/stats') {
      if (method !== 'GET') return methodNotAllowed('GET');
      return json(200, JSON.stringify(options.stats));
    }
    if (path === '/_bridge/connections') {
      if (method !== 'GET') return methodNotAllowed('GET');
      return json(200, JSON.stringify({ intervals: options.connections.intervals() }));
    }
    if (path === '/_bridge/reset') {
      if (method !== 'POST') return methodNotAllowed('POST');
      options.stats.requests = 0;
      options.stats.commands = 0;
      options.connections.reset();
      return json(200, '{"ok":true}');
    }
    if (!UPSTASH_PATHS.has(path)) return json(404, renderError(`ERR no route for ${path}`));
    if (path === '/' && method === 'GET') return json(200, JSON.stringify({ ok: true, mode: options.mode }));
    if (method !== 'POST') return methodNotAllowed(path === '/' ? 'GET, POST' : 'POST');

    options.stats.requests++;
    if (!isAuthorized(req.headers.authorization)) return json(401, renderError(WRONGPASS));
    const body = await readBody(req);
    // One REST call is one round trip to Upstash, however many commands it carries (#18).
    if (options.latencyMs) await sleep(options.latencyMs);
    const base64 = req.headers['upstash-encoding']?.toString().toLowerCase() === 'base64';
    try {
      return await runUpstash(path, body, base64);
    } catch (error) {
      if (error instanceof BadRequestError) return json(400, renderError(error.message));
      throw error;
    }
  }

  async function runUpstash(path: string, body: string, base64: boolean): Promise<Reply> {
    if (path === '/') {
      const outcome = await options.executor.single(parseSingle(body));
      return json('error' in outcome ? 400 : 200, renderOutcome(outcome, base64));
    }
    if (path === '/pipeline')
      return json(200, renderOutcomes(await options.executor.pipeline(parseBatch(body)), base64));
    const result = await options.executor.transaction(parseBatch(body));
    if ('aborted' in result) return json(400, renderError(result.aborted));
    return json(200, renderOutcomes(result.outcomes, base64));
  }

  function isAuthorized(header: string | undefined): boolean {
    return header !== undefined && timingSafeEqual(digest(header), expectedAuth);
  }

  return async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://bridge').pathname;
    if (UPSTASH_PATHS.has(path) && req.method === 'POST') options.connections.track(req, res);
    let reply: Reply;
    try {
      reply = await route(req, path);
    } catch (error) {
      options.log(`bridge: ${req.method} ${path} failed: ${(error as Error).stack ?? error}`);
      reply = json(500, renderError(`ERR bridge: ${(error as Error).message}`));
    }
    res.writeHead(reply.status, {
      'Content-Type': 'application/json',
      'upstash-sync-token': String(++syncToken),
      ...(reply.allow ? { Allow: reply.allow } : {}),
    });
    res.end(reply.body);
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function json(status: number, body: string): Reply {
  return { status, body };
}

function methodNotAllowed(allow: string): Reply {
  return { status: 405, body: renderError('ERR method not allowed'), allow };
}

// Hashing both sides gives equal lengths, so timingSafeEqual never leaks the token's length.
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
