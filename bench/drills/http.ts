/**
 * HTTP for the drills: `send` never throws (a refused or reset connection is status 0 with `error`), and
 * `sendRaw` writes bytes `fetch` refuses to send (CR/LF inside a header value, invalid UTF-8).
 */
import { connect } from 'node:net';

/** One answer as a drill sees it. */
export interface Reply {
  /** 0 when no HTTP answer came back (refused, reset, timed out). */
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: unknown;
  text: string;
  ms: number;
  error?: string;
}

/** What a drill sends. */
export interface Ask {
  method?: string;
  /** Sent as `authorization: Bearer <key>`; `headers.authorization` wins when both are given. */
  key?: string;
  /** An object is sent as JSON; a string or bytes as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  /** @default 30_000 */
  timeoutMs?: number;
}

/** Sends one request; never throws. */
export async function send(url: string, ask: Ask = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (ask.key !== undefined) headers.authorization = `Bearer ${ask.key}`;
  let body: string | Uint8Array | undefined;
  if (typeof ask.body === 'string' || ask.body instanceof Uint8Array) body = ask.body;
  else if (ask.body !== undefined) {
    body = JSON.stringify(ask.body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, ask.headers);
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: ask.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: AbortSignal.timeout(ask.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: parseJson(text), text, ms: since(started) };
  } catch (error) {
    const reason = error instanceof Error ? (error.cause ?? error) : error;
    return {
      status: 0,
      headers: new Headers(),
      body: undefined,
      text: '',
      ms: since(started),
      error: `${reason}`,
    };
  }
}

/**
 * Writes one HTTP/1.1 request byte for byte (`Connection: close`) and reads the answer. For what `fetch`
 * validates away: a header line with CR/LF inside, bytes that are not UTF-8.
 */
export function sendRaw(
  url: string,
  request: { method: string; path: string; headerLines: string[]; body?: Uint8Array },
  timeoutMs = 15_000,
): Promise<Reply> {
  const { hostname, port } = new URL(url);
  const body = request.body ?? new Uint8Array();
  const head = [
    `${request.method} ${request.path} HTTP/1.1`,
    `host: ${hostname}:${port}`,
    'connection: close',
    ...(body.length ? [`content-length: ${body.length}`] : []),
    ...request.headerLines,
  ].join('\r\n');
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (error?: string) => {
      socket.destroy();
      const reply = parseRawResponse(Buffer.concat(chunks));
      resolve({ ...reply, ms: since(started), ...(error && reply.status === 0 ? { error } : {}) });
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => done());
    socket.on('error', (error) => done(error.message));
    socket.write(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]));
  });
}

function parseRawResponse(raw: Buffer): Omit<Reply, 'ms'> {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return { status: 0, headers: new Headers(), body: undefined, text: '' };
  const lines = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let payload = raw.subarray(split + 4);
  if (headers.get('transfer-encoding')?.includes('chunked')) payload = dechunk(payload);
  const text = payload.toString('utf8');
  return { status, headers, body: parseJson(text), text };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const since = (started: number) => Math.round(performance.now() - started);

/** The gateway's error body, when `body` has that exact shape. */
export interface ErrorBody {
  error: { type: string; code: string; message: string; request_id: string; param?: string };
}

/** True when `body` is `{"error":{type,code,message,request_id}}` with non-empty strings. */
export function isTypedError(body: unknown): body is ErrorBody {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  if (typeof error !== 'object' || error === null) return false;
  return ['type', 'code', 'message', 'request_id'].every(
    (field) => typeof error[field] === 'string' && (error[field] as string).length > 0,
  );
}

/** The error code of a typed error body, else undefined. */
export const errorCode = (reply: Reply): string | undefined =>
  isTypedError(reply.body) ? reply.body.error.code : undefined;
