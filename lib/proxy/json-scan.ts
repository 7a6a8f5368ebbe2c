/**
 * Follows a JSON object as its bytes stream past, without building it: whether it arrived whole, and
 * the value of one small top-level field (an answer's `usage`). Inside strings it jumps from quote to
 * quote with `indexOf`, so megabytes of base64 cost a few native scans and no copies. It checks the
 * structure only as far as that needs (balanced brackets, one object, nothing after it): the provider's
 * JSON is trusted to be JSON; what must not be trusted is that it arrived in full.
 */

import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  isJsonSpace as isSpace,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from '../json-bytes';

/** A key longer than this is not the field looked for. */
const MAX_KEY_BYTES = 64;

export interface JsonScanResult {
  /** One whole object, and nothing but whitespace after it. */
  complete: boolean;
  /** The field's parsed value; undefined when absent, unreadable or past the size limit. */
  field?: unknown;
}

export interface JsonScan {
  push(bytes: Uint8Array): void;
  end(): JsonScanResult;
}

/**
 * A scanner for an object whose top-level `field` is wanted; its value is kept up to `maxFieldBytes`
 * (a larger one is dropped, not truncated).
 */
export function scanJson(field: string, maxFieldBytes = 64 * 1024): JsonScan {
  let depth = 0;
  let started = false;
  let closed = false;
  let invalid = false;
  let inString = false;
  let escaped = false;
  /** The string being read is a key of the top-level object; its bytes so far. */
  let inKey = false;
  let expectKey = false;
  let key: number[] = [];
  let lastKey = '';
  /** The wanted field's value: its bytes in earlier chunks, and where it starts in this one. */
  let value: Uint8Array[] | undefined;
  let valueBytes = 0;
  let capturing = false;
  let captureFrom = 0;
  let done = false;

  const capture = (bytes: Uint8Array, to: number) => {
    if (!value || to <= captureFrom) return;
    valueBytes += to - captureFrom;
    if (valueBytes > maxFieldBytes) value = undefined;
    else value.push(bytes.slice(captureFrom, to));
  };

  const keyBytes = (bytes: Uint8Array, from: number, to: number) => {
    for (let i = from; i < to && key.length <= MAX_KEY_BYTES; i++) key.push(bytes[i] as number);
  };

  /** Reads string bytes from `start`; returns where the scan goes on (after the closing quote, or the end). */
  const inside = (bytes: Uint8Array, start: number): number => {
    let i = start;
    // The first quote from here, kept while the scan has not passed it: backslashes cost no rescans.
    let quote = -1;
    while (i < bytes.length) {
      if (escaped) {
        escaped = false;
        if (inKey) keyBytes(bytes, i, i + 1);
        i += 1;
        continue;
      }
      if (quote < i) quote = bytes.indexOf(QUOTE, i);
      const end = quote === -1 ? bytes.length : quote;
      const slash = bytes.subarray(i, end).indexOf(BACKSLASH);
      if (slash !== -1) {
        if (inKey) keyBytes(bytes, i, i + slash + 1);
        i += slash + 1;
        escaped = true;
        continue;
      }
      if (inKey) keyBytes(bytes, i, end);
      if (quote === -1) return bytes.length;
      inString = false;
      if (inKey) {
        inKey = false;
        expectKey = false;
        lastKey = key.length <= MAX_KEY_BYTES ? new TextDecoder().decode(new Uint8Array(key)) : '';
      }
      return quote + 1;
    }
    return i;
  };

  /** The end of a top-level member at `i` (a comma, or the object's closing brace). */
  const endMember = (bytes: Uint8Array, i: number) => {
    if (!capturing) return;
    capture(bytes, i);
    capturing = false;
    done = true;
  };

  /** One byte outside strings. */
  const structural = (bytes: Uint8Array, i: number) => {
    const byte = bytes[i] as number;
    if (isSpace(byte)) return;
    if (closed || (!started && byte !== OPEN_BRACE)) {
      invalid = true;
      return;
    }
    switch (byte) {
      case QUOTE:
        inString = true;
        inKey = depth === 1 && expectKey;
        if (inKey) key = [];
        return;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        if (!started) {
          started = true;
          expectKey = true;
        }
        depth += 1;
        return;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        depth -= 1;
        if (depth < 0) invalid = true;
        if (depth === 0) {
          endMember(bytes, i);
          closed = true;
        }
        return;
      case COMMA:
        if (depth !== 1) return;
        endMember(bytes, i);
        expectKey = true;
        return;
      case COLON:
        if (depth === 1 && !done && lastKey === field) {
          capturing = true;
          captureFrom = i + 1;
          value = [];
          valueBytes = 0;
        }
    }
  };

  return {
    push(bytes) {
      let i = 0;
      while (i < bytes.length && !invalid) {
        if (inString) i = inside(bytes, i);
        else structural(bytes, i++);
      }
      // A value that goes on into the next chunk: keep this chunk's part of it.
      if (capturing) {
        capture(bytes, bytes.length);
        captureFrom = 0;
      }
    },
    end() {
      const complete = started && closed && !invalid && !inString;
      return { complete, ...(done && value ? { field: parsed(value) } : {}) };
    },
  };
}

function parsed(parts: Uint8Array[]): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(concat(parts)));
  } catch {
    return undefined;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
