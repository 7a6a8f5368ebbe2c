/**
 * One upstream attempt of a proxied call, made with the target's SDK client (its key, base URL and
 * per-attempt timeout; its error classes are what the router classifies) but with the raw response,
 * so the body reaches the client as the provider sent it, not as the SDK would re-serialise it.
 */
import { UpstreamError } from '../errors';
import { isJsonSpace, OPEN_BRACE } from '../json-bytes';
import type { ProviderTarget } from '../providers/targets';
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
  const res = await target.client.post(path, { body: { ...body, model } }).asResponse();
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
  const res = await target.client.post(path, { body: { ...body, model }, stream: true }).asResponse();
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
  const res = await target.client.post(path, { body: { ...body, model } }).asResponse();
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
