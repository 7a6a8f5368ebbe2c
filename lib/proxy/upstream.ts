/**
 * One upstream attempt of a proxied call, with the raw response, so the body reaches the client as the
 * provider sent it. It is sent as the target's SDK client would send it (its key, base URL, request id
 * and per-attempt timeout, through the invocation's pool) but without the client: a proxied call relays
 * a body it never needs typed, and the SDK's per-call work (a client per attempt, its header building,
 * the debug-log formatting it does even with logging off) was an eighth of a proxied call's CPU. A
 * failure is the SDK's own error class, made by the SDK (`APIError.generate`), which the router
 * classifies.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { UpstreamError } from '../errors';
import { isJsonSpace, OPEN_BRACE } from '../json-bytes';
import type { Endpoint, ProviderTarget } from '../providers/targets';
import { RELAY_CHUNK_BYTES } from './json-relay';

export interface UpstreamJson {
  /** The body exactly as received. */
  text: string;
  json: unknown;
}

export interface UpstreamStream {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  /** The first bytes, already read: until they arrive a failure can still be retried or failed over. */
  first: Uint8Array;
}

/** POSTs `body` with `model` to `path`; a body that is cut short or is not JSON throws (and is retried). */
export async function postJson(
  target: ProviderTarget,
  path: string,
  body: Record<string, unknown>,
  model: string,
): Promise<UpstreamJson> {
  const res = await post(target, path, { ...body, model });
  const text = await res.text();
  return { text, json: JSON.parse(text) };
}

/** POSTs a streaming request and waits for its first bytes. */
export async function openStream(
  target: ProviderTarget,
  path: string,
  body: Record<string, unknown>,
  model: string,
): Promise<UpstreamStream> {
  const res = await post(target, path, { ...body, model });
  const reader = res.body?.getReader();
  const first = await reader?.read();
  if (!reader || !first || first.done) {
    throw new UpstreamError({ message: `${target.name} closed the stream before sending anything.` });
  }
  return { reader, first: first.value };
}

/** An answer opened for relaying with one reused buffer: its reader, and its first bytes (in that buffer). */
export interface UpstreamBytes {
  reader: ReadableStreamBYOBReader;
  first: Uint8Array;
}

/**
 * POSTs a request whose JSON answer is relayed as it arrives (lib/proxy/json-relay.ts), and waits for its
 * first bytes: an answer that does not open as a JSON object throws here (and is retried), while nothing
 * has reached the client yet.
 */
export async function openJson(
  target: ProviderTarget,
  path: string,
  body: Record<string, unknown>,
  model: string,
): Promise<UpstreamBytes> {
  const res = await post(target, path, { ...body, model });
  const reader = res.body?.getReader({ mode: 'byob' });
  const first = await reader?.read(new Uint8Array(RELAY_CHUNK_BYTES));
  if (!reader || !first || first.done) {
    throw new UpstreamError({ message: `${target.name} closed its answer before sending anything.` });
  }
  const start = first.value.findIndex((byte) => !isJsonSpace(byte));
  if (start !== -1 && first.value[start] !== OPEN_BRACE) {
    reader.cancel().catch(() => undefined);
    throw new UpstreamError({ message: `${target.name} answered with something other than a JSON object.` });
  }
  return { reader, first: first.value };
}

/** POSTs `body` as JSON to `path` of the target; a status other than 2xx throws the SDK's error for it. */
async function post(target: ProviderTarget, path: string, body: Record<string, unknown>): Promise<Response> {
  if (!target.endpoint) return target.client.post(path, { body }).asResponse();
  const { baseURL, apiKey, headers, fetch: send, timeoutMs } = target.endpoint;
  const init: RequestInit = {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      authorization: `Bearer ${apiKey}`,
      ...headers,
    },
    body: JSON.stringify(body),
    ...(send || timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
  };
  let res: Response;
  try {
    res = await (send ?? fetch)(urlOf(baseURL, path), init);
  } catch (err) {
    throw connectionError(err);
  }
  if (res.ok) return res;
  const text = await res.text().catch(() => '');
  // As the SDK does: the parsed body if it parses (its `error` carries type, code and param), else the text.
  const json = parsedOrUndefined(text) as Record<string, unknown> | undefined;
  const error = json && typeof json === 'object' && json.error == null ? { error: json } : json;
  throw APIError.generate(res.status, error, json ? undefined : text, res.headers);
}

/** The SDK's URL for `path` (it joins them with one slash). */
function urlOf(baseURL: Endpoint['baseURL'], path: string): string {
  return `${baseURL.endsWith('/') ? baseURL.slice(0, -1) : baseURL}${path.startsWith('/') ? path : `/${path}`}`;
}

/** As the SDK reads a failed fetch: a timeout (an abort, anything that says it timed out) or a broken connection. */
function connectionError(err: unknown): APIError {
  const cause = err instanceof Error ? err : new Error(String(err));
  const said = String(cause) + ('cause' in cause ? String(cause.cause) : '');
  const timedOut = cause.name === 'AbortError' || /timed? ?out/i.test(said);
  return timedOut ? new APIConnectionTimeoutError() : new APIConnectionError({ cause });
}

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
