/**
 * Relays a JSON answer to the client as it arrives, never holding it whole, while reading from it
 * what the gateway needs: one top-level field (the usage the budget settles with) and whether the
 * whole object arrived. An image answer is megabytes of base64 per image, and a Worker's isolate has
 * 128 MB for all its requests (issue #15): holding it as text and parsed would not fit.
 *
 * The bytes never become JavaScript garbage: they are read into one reused buffer (a BYOB reader) and
 * written to a native IdentityTransformStream, whose write resolves only once the client has taken the
 * bytes. So a request holds one buffer however large the answer and however slow the client (a relay
 * that read chunk objects instead left tens of MB for the garbage collector per answer; see
 * bench/RESULTS.md, "Memory").
 *
 * An answer that breaks off, stalls past `idleTimeoutMs` or ends before its object is whole is not
 * closed cleanly: the client's body errors (its connection is cut), as a truncated 200 must never look
 * complete. When the client goes away, the relay reads on, forwarding nothing, for up to `drainMs` to
 * learn the usage the provider bills.
 */
import { scanJson } from './json-scan';
import { readWithin } from './timed-read';

/** Bytes read from upstream at a time. */
export const RELAY_CHUNK_BYTES = 64 * 1024;

export interface JsonRelayOptions {
  /** The top-level field to read, e.g. `usage`. */
  field: string;
  /** Longest wait for the next upstream bytes before the relay gives up. */
  idleTimeoutMs: number;
  /** How long to read on after the client went away; 0: stop at once. */
  drainMs: number;
}

export interface JsonRelayOutcome {
  /** The whole object arrived (the client got all of it, unless it went away). */
  complete: boolean;
  /** The field's value, once the object arrived whole. */
  field?: unknown;
}

/**
 * Relays `reader`, whose first bytes `first` were already read (into a buffer the relay then reuses),
 * as a Response body; `outcome` resolves once the relay is over, however it ended.
 */
export function relayJson(
  reader: ReadableStreamBYOBReader,
  first: Uint8Array,
  options: JsonRelayOptions,
): { body: ReadableStream<Uint8Array>; outcome: Promise<JsonRelayOutcome> } {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  const scan = scanJson(options.field);
  let ended = false;
  /** When the client went away (a write was refused); the drain stops at this plus `drainMs`. */
  let goneAt: number | undefined;

  /** Hands `bytes` to the client and waits until it took them; false once it went away. */
  const send = async (bytes: Uint8Array) => {
    if (goneAt !== undefined) return false;
    try {
      await writer.write(bytes);
      return true;
    } catch {
      goneAt = Date.now();
      return false;
    }
  };

  const pump = async (): Promise<void> => {
    // The buffer `first` was read into, when it is a whole one (openJson's), else a new one.
    let buffer =
      first.buffer.byteLength >= RELAY_CHUNK_BYTES
        ? (first.buffer as ArrayBuffer)
        : new ArrayBuffer(RELAY_CHUNK_BYTES);
    scan.push(first);
    await send(first);
    for (;;) {
      const wait =
        goneAt === undefined
          ? options.idleTimeoutMs
          : Math.min(options.idleTimeoutMs, goneAt + options.drainMs - Date.now());
      if (wait <= 0) return undefined;
      // A read transfers the buffer; what it returns is a view of the same memory, reused next time.
      const next = await readWithin(reader.read(new Uint8Array(buffer, 0, buffer.byteLength)), wait);
      if (next.done) {
        ended = true;
        return undefined;
      }
      buffer = next.value.buffer as ArrayBuffer;
      scan.push(next.value);
      await send(next.value);
    }
  };

  const outcome = pump()
    .then(
      () => undefined,
      (err: unknown) => err,
    )
    .then(async (failure) => {
      const result = scan.end();
      const whole = ended && result.complete;
      if (!ended) reader.cancel().catch(() => undefined);
      if (goneAt === undefined) {
        if (whole) await writer.close().catch(() => undefined);
        else
          await writer
            .abort(failure ?? new Error('The provider closed its answer before it was whole.'))
            .catch(() => undefined);
      }
      // A field read from an answer that did not arrive whole is not trusted.
      return whole ? result : { complete: false };
    });
  return { body: readable, outcome };
}
