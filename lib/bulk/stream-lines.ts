/**
 * The lines of a JSONL body, one at a time as it downloads, so a batch file (megabytes per thousand
 * items) is never held whole. Read with one reused buffer where the stream allows it (fetch's bodies
 * do): chunk objects per read would each be garbage the size of the chunk (see lib/proxy/json-relay.ts).
 * Stopping early (a `break` in the caller's loop) cancels the download.
 */

/** Bytes read at a time. */
const CHUNK_BYTES = 64 * 1024;

/** Each line of `body` without its newline (a last line without one included), decoded as UTF-8. */
export async function* linesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of chunksOf(body)) {
    pending += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
      yield pending.slice(start, end);
      start = end + 1;
    }
    pending = pending.slice(start);
  }
  pending += decoder.decode();
  if (pending) yield pending;
}

/** The chunks of `body`, each valid only until the next is asked for (the buffer is reused). */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream: chunk by chunk as it gives them.
  }
  const reader = byob ?? body.getReader();
  let buffer = new ArrayBuffer(CHUNK_BYTES);
  const read = byob
    ? () => (byob as ReadableStreamBYOBReader).read(new Uint8Array(buffer))
    : () => (reader as ReadableStreamDefaultReader<Uint8Array>).read();
  try {
    for (;;) {
      const next = await read();
      if (next.done) return;
      yield next.value;
      if (byob) buffer = next.value.buffer as ArrayBuffer;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
