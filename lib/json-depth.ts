import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-bytes';

/**
 * How deeply a JSON text nests, found without parsing it: objects and arrays opened outside strings. A
 * body nested thousands deep passes JSON.parse, then overflows the stack of whatever walks it (a cache
 * key, an allow-list, the provider), so it is refused before anything reads it.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === BACKSLASH) i++;
      else if (ch === QUOTE) inString = false;
    } else if (ch === QUOTE) inString = true;
    else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      depth++;
      if (depth > max) return true;
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** Deeper than any request the gateway or OpenAI accepts needs (OpenAI's structured outputs allow 10). */
export const MAX_JSON_DEPTH = 64;
