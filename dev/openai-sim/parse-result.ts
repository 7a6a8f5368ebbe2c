/** A validation outcome: the value, or a message for the 400. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A failed ParseResult. */
export function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}
