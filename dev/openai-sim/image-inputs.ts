import { createHash } from 'node:crypto';
import { isRecord } from './config.ts';

/**
 * One image a request carried, as `GET /_sim/inputs` lists it: a data URL by its media type, size and
 * SHA-256 (never the bytes), any other URL as it is.
 */
export interface ImageInput {
  endpoint: string;
  url?: string;
  media_type?: string;
  bytes?: number;
  sha256?: string;
}

/** Entries kept per scope (global, and each key); older ones are dropped. */
const KEPT = 200;

/** The images requests carried, globally and per API key, so a test can compare what two calls saw. */
export interface ImageInputLog {
  record(apiKey: string, endpoint: string, body: unknown): void;
  view(key?: string): { images: ImageInput[] };
  reset(key?: string): void;
}

export function createImageInputLog(): ImageInputLog {
  let global: ImageInput[] = [];
  const scoped = new Map<string, ImageInput[]>();
  const push = (list: ImageInput[], entry: ImageInput) => {
    list.push(entry);
    if (list.length > KEPT) list.shift();
  };
  return {
    record(apiKey, endpoint, body) {
      for (const url of imageUrlsIn(body)) {
        const entry = describe(endpoint, url);
        push(global, entry);
        const list = scoped.get(apiKey) ?? [];
        push(list, entry);
        scoped.set(apiKey, list);
      }
    },
    view: (key) => ({ images: [...(key === undefined ? global : (scoped.get(key) ?? []))] }),
    reset(key) {
      if (key === undefined) global = [];
      else scoped.delete(key);
    },
  };
}

function describe(endpoint: string, url: string): ImageInput {
  const data = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
  if (!data) return { endpoint, url };
  const bytes = data[2]
    ? Buffer.from(data[3] ?? '', 'base64')
    : Buffer.from(decodeURIComponent(data[3] ?? ''));
  return {
    endpoint,
    media_type: data[1] ?? '',
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/**
 * Image URLs anywhere in a request body: Responses `input_image` parts (`image_url` a string) and Chat or
 * moderation `image_url` parts (`image_url.url`).
 */
export function imageUrlsIn(value: unknown, depth = 0): string[] {
  if (depth > 8) return [];
  if (Array.isArray(value)) return value.flatMap((item) => imageUrlsIn(item, depth + 1));
  if (!isRecord(value)) return [];
  if (value.type === 'input_image' && typeof value.image_url === 'string') return [value.image_url];
  if (value.type === 'image_url' && isRecord(value.image_url) && typeof value.image_url.url === 'string')
    return [value.image_url.url];
  return Object.values(value).flatMap((item) => imageUrlsIn(item, depth + 1));
}
