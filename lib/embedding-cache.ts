/**
 * Embeddings cached per text, so a catalogue is embedded once: the key is the tenant's namespace (as
 * the response cache's: a key's own unless CACHE_SHARED_NAMESPACE, so no key learns what another
 * embedded), the model, the dimensions and the SHA-256 of the text; the value is the vector as base64 float32 (4 bytes a dimension).
 * Reads are one MGET for any number of texts; writes are one pipeline, before the answer. Fails
 * open: without Redis every text is embedded again.
 */

import { toHex } from './hex';
import type { Logger } from './log';
import { type Redis, redisKey } from './store';

export interface EmbeddingCacheDeps {
  redis: Pick<Redis, 'mget' | 'pipeline'>;
  log?: Pick<Logger, 'warn'>;
}

/** A prefix keeps a value from ever looking like JSON to the client's automatic deserialisation. */
const PREFIX = 'f32:';

export async function embeddingKey(
  namespace: string,
  model: string,
  dimensions: number | undefined,
  text: string,
): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  const hex = toHex(digest);
  return redisKey('emb', namespace, model, dimensions ?? 'default', hex);
}

/** The cached vectors of `keys`, in order; null where a text was never embedded (or Redis failed). */
export async function readEmbeddings(deps: EmbeddingCacheDeps, keys: string[]): Promise<(number[] | null)[]> {
  if (!keys.length) return [];
  try {
    const values = await deps.redis.mget<(string | null)[]>(...keys);
    return values.map((v) =>
      typeof v === 'string' && v.startsWith(PREFIX) ? decode(v.slice(PREFIX.length)) : null,
    );
  } catch (err) {
    deps.log?.warn('embedding cache unavailable; embedding every text', { cause: err });
    return keys.map(() => null);
  }
}

/** Stores vectors under their keys in one pipeline; never rejects. */
export async function writeEmbeddings(
  deps: EmbeddingCacheDeps,
  entries: { key: string; vector: number[] }[],
  ttlSeconds: number,
): Promise<void> {
  if (!entries.length) return;
  try {
    const p = deps.redis.pipeline();
    for (const { key, vector } of entries) p.set(key, PREFIX + encode(vector), { ex: ttlSeconds });
    await p.exec();
  } catch (err) {
    deps.log?.warn('embedding cache write failed', { cause: err });
  }
}

function encode(vector: number[]): string {
  const bytes = new Uint8Array(Float32Array.from(vector).buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function decode(b64: string): number[] | null {
  try {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    return bytes.length % 4 ? null : Array.from(new Float32Array(bytes.buffer));
  } catch {
    return null;
  }
}

/** Cosine similarity; 0 when either vector is all zeros or their lengths differ. */
export function cosine(a: number[], b: number[]): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
