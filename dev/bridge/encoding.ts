import type { Outcome, Reply } from './backend.ts';

/**
 * Renders replies as Upstash JSON. With `Upstash-Encoding: base64`, EVERY string in a result is base64
 * of its bytes, at any depth and including "OK", "QUEUED" and "PONG": the client decodes every string
 * inside arrays, so a raw "OK" there would decode to garbage (reference/upstash-and-workers.md §1.5).
 * Integers stay JSON numbers (exact digits, even above 2^53), nil stays null, errors are never encoded.
 * Without the header, strings are the bytes read as UTF-8.
 */

export function renderReply(reply: Reply, base64: boolean): string {
  if (reply === null) return 'null';
  if (typeof reply === 'bigint') return reply.toString();
  if (Buffer.isBuffer(reply))
    return base64 ? `"${reply.toString('base64')}"` : JSON.stringify(reply.toString('utf8'));
  if (Array.isArray(reply)) return `[${reply.map((item) => renderReply(item, base64)).join(',')}]`;
  // An error nested in an array (e.g. a Lua table holding an error reply) has no JSON form in the
  // protocol; we send its text as a string.
  return renderReply(Buffer.from(reply.message), base64);
}

/** `{"result":…}` or `{"error":"…"}`: one pipeline entry, or the body of a single-command response. */
export function renderOutcome(outcome: Outcome, base64: boolean): string {
  if ('error' in outcome) return renderError(outcome.error);
  return `{"result":${renderReply(outcome.result, base64)}}`;
}

export function renderOutcomes(outcomes: Outcome[], base64: boolean): string {
  return `[${outcomes.map((outcome) => renderOutcome(outcome, base64)).join(',')}]`;
}

export function renderError(message: string): string {
  return JSON.stringify({ error: message });
}
