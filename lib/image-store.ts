/**
 * Generated images in R2, content-addressed: an image's id (and object key) is the SHA-256 hex of its
 * bytes, so the same image is stored once and a second store costs one `head`.
 *
 * The ids double as access control. `GET /v1/images/:id` is public because shoppers' browsers load
 * these images with `<img src>` and cannot send a bearer key; that is acceptable because an id is a
 * 256-bit content hash, unguessable without already having the image. Nothing else about the request
 * (key, prompt) is reachable through that route.
 *
 * Only PNG, JPEG and WebP are stored, checked by their magic bytes, so the route can serve them with
 * `x-content-type-options: nosniff` and never hands a browser anything that is not an image.
 *
 * The prompt is kept as a short, single-line excerpt (at most PROMPT_METADATA_MAX_BYTES UTF-8 bytes,
 * `prompt_truncated: 'true'` when cut; lib/image-metadata.ts) for operators browsing the bucket: prompts may be up to
 * 32,000 characters and R2 caps an object's metadata at 8,192 bytes. On a dedupe hit the first store's
 * metadata stays.
 *
 * Fails closed: no image URL is handed out for an image that was not stored. R2 answers the odd call
 * with `InternalError: We encountered an internal error. Please try again.` (seen in production by
 * nodejs/release-cloudflare-worker#916), so each call is made twice before it fails, which is safe
 * here: a read, or a write of bytes under their own hash. The first failure is logged (a warning, so
 * operators see R2 failing before it costs a request); a second is a typed, retryable 503
 * (`image_store_unavailable`), never a 500.
 */

import { ImageStoreUnavailableError } from './errors';
import { toHex } from './hex';
import { customMetadata, type ImageMeta } from './image-metadata';
import { checkedType, type ImageContentType } from './image-type';
import type { Logger } from './log';

/** The slice of an R2 binding this module uses. */
export type ImageBucket = Pick<R2Bucket, 'put' | 'get' | 'head'>;

/**
 * `bucket` with each call made through `run` (the invocation's connection pool): R2 calls count toward
 * Workers' six connections too, so a batch's fan-out of image writes must queue with the rest.
 */
export function pooledBucket(
  bucket: ImageBucket,
  run: <T>(work: () => Promise<T>) => Promise<T>,
): ImageBucket {
  return {
    put: (...args: Parameters<R2Bucket['put']>) => run(() => bucket.put(...args)),
    get: (...args: Parameters<R2Bucket['get']>) => run(() => bucket.get(...args)),
    head: (...args: Parameters<R2Bucket['head']>) => run(() => bucket.head(...args)),
  } as ImageBucket;
}

/** Where a failed R2 call that is about to be made again is reported. */
export type RetryLog = Pick<Logger, 'warn'>;

export interface StoreOptions {
  /** Clock for `created_at`, in epoch milliseconds. @default Date.now */
  now?: () => number;
  log?: RetryLog;
}

export interface StoredImage {
  /** SHA-256 hex of the bytes: the object key and the URL id. */
  id: string;
  contentType: ImageContentType;
  /** Size in bytes. */
  bytes: number;
  /** True when the image was already stored and this call wrote nothing. */
  deduplicated: boolean;
}

export interface ImageInfo {
  contentType: string;
  /** Size in bytes. */
  size: number;
  /** Strong HTTP entity tag: the id in double quotes. */
  etag: string;
}

export interface ImageObject extends ImageInfo {
  body: ReadableStream;
}

/** 64 lower-case hex characters: a SHA-256 digest as {@link storeImage} writes it. */
export const IMAGE_ID_PATTERN = /^[0-9a-f]{64}$/;

const DEFAULT_CONTENT_TYPE = 'image/png';
/** Served when an object somehow lacks one; with `nosniff` a browser will not render it. */
const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

export const isImageId = (id: string): boolean => IMAGE_ID_PATTERN.test(id);

/**
 * Stores an image under its SHA-256 unless it is already there.
 * @throws UnsupportedImageError when the bytes are not PNG/JPEG/WebP or not the declared type.
 * @example
 * const { id } = await storeImage(env.IMAGES, image.bytes, { model, size: image.size, prompt });
 */
export async function storeImage(
  bucket: ImageBucket,
  bytes: Uint8Array,
  meta: ImageMeta,
  options: StoreOptions = {},
): Promise<StoredImage> {
  const contentType = checkedType(bytes, meta.contentType ?? DEFAULT_CONTENT_TYPE);
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  const id = toHex(new Uint8Array(digest));
  const stored: StoredImage = { id, contentType, bytes: bytes.byteLength, deduplicated: true };
  // Two concurrent first stores both write; the bytes (and so the key) are identical, so either wins.
  if (await twice('check an image', () => bucket.head(id), options.log)) return stored;
  await twice(
    'store an image',
    () =>
      bucket.put(id, bytes, {
        httpMetadata: { contentType },
        customMetadata: customMetadata(meta, (options.now ?? Date.now)()),
        // R2 verifies the upload against this digest and rejects a corrupted one.
        sha256: digest,
      }),
    options.log,
  );
  return { ...stored, deduplicated: false };
}

/** `call` (one R2 operation that may be repeated), tried again once; a second failure is a 503. */
async function twice<T>(what: string, call: () => Promise<T>, log?: RetryLog): Promise<T> {
  try {
    return await call();
  } catch (first) {
    log?.warn('image store call failed; trying it once more', { operation: what, cause: first });
    try {
      return await call();
    } catch (error) {
      throw new ImageStoreUnavailableError({
        message: `The image store could not ${what}; retry shortly.`,
        retryAfter: 1,
        cause: error,
      });
    }
  }
}

/** A stored image's body stream, content type, size and etag, or null when there is no such image. */
export async function readImage(
  bucket: ImageBucket,
  id: string,
  log?: RetryLog,
): Promise<ImageObject | null> {
  if (!isImageId(id)) return null;
  const object = await twice('read an image', () => bucket.get(id), log);
  return object ? { ...infoOf(id, object), body: object.body } : null;
}

/** Like {@link readImage} without the body: for HEAD and revalidation. */
export async function headImage(bucket: ImageBucket, id: string, log?: RetryLog): Promise<ImageInfo | null> {
  if (!isImageId(id)) return null;
  const object = await twice('read an image', () => bucket.head(id), log);
  return object ? infoOf(id, object) : null;
}

function infoOf(id: string, object: R2Object): ImageInfo {
  return {
    contentType: object.httpMetadata?.contentType ?? FALLBACK_CONTENT_TYPE,
    size: object.size,
    etag: `"${id}"`,
  };
}

/** `bytes` as a base64 `data:` URL, the form the moderation API and the vision models take an image in. */
export function imageDataUrl(bytes: Uint8Array, contentType: string): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${contentType};base64,${btoa(binary)}`;
}

/**
 * The durable URL of a stored image, the one the gateway hands out (never a provider's expiring URL).
 * @param origin the gateway's origin, e.g. `new URL(c.req.url).origin`; any path on it is dropped.
 * @example imageUrl('https://gateway.example', stored.id) // https://gateway.example/v1/images/<id>
 */
export function imageUrl(origin: string, id: string): string {
  if (!isImageId(id)) throw new Error(`imageUrl: ${JSON.stringify(id)} is not an image id.`);
  return new URL(`/v1/images/${id}`, origin).href;
}
