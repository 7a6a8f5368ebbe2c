/**
 * The custom metadata stored with a generated image in R2: model, size, creation time, and the prompt
 * as a short, single-line excerpt (R2 caps an object's metadata at 8,192 bytes).
 */

export interface ImageMeta {
  /** What the bytes claim to be; must agree with their magic bytes. @default 'image/png' */
  contentType?: string;
  /** The model that generated the image. */
  model: string;
  /** e.g. `1024x1024`. */
  size: string;
  /** Stored as an excerpt of at most {@link PROMPT_METADATA_MAX_BYTES} bytes; omitted when absent. */
  prompt?: string;
}

/** Upper bound of the prompt excerpt kept in an object's custom metadata. */
export const PROMPT_METADATA_MAX_BYTES = 512;

/** The R2 custom metadata of an image described by `meta`, created at `createdAtMs`. */
export function customMetadata(meta: ImageMeta, createdAtMs: number): Record<string, string> {
  const fields: Record<string, string> = {
    model: meta.model,
    size: meta.size,
    created_at: new Date(createdAtMs).toISOString(),
  };
  if (meta.prompt === undefined) return fields;
  const excerpt = promptExcerpt(meta.prompt);
  fields.prompt = excerpt.text;
  if (excerpt.truncated) fields.prompt_truncated = 'true';
  return fields;
}

/** Whitespace collapsed to single spaces, cut on a code point so it stays within the byte cap. */
function promptExcerpt(prompt: string): { text: string; truncated: boolean } {
  const oneLine = prompt.replace(/\s+/g, ' ').trim();
  const encoder = new TextEncoder();
  let used = 0;
  let text = '';
  for (const char of oneLine) {
    used += encoder.encode(char).byteLength;
    if (used > PROMPT_METADATA_MAX_BYTES) return { text, truncated: true };
    text += char;
  }
  return { text, truncated: false };
}
