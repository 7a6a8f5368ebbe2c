/**
 * Reading a client image's body for lib/image-fetch.ts, within its byte cap and its time, and the
 * errors a fetch of it raises: each the client's, at `param: image_url`.
 */
import { GatewayError, InvalidRequestError, RequestTooLargeError } from './errors';

/**
 * The largest image fetched, in bytes. It is held, then sent twice as base64 (moderation and vision),
 * about four times its size in an isolate that has 128 MB for all its requests; product photos are
 * rarely larger.
 */
export const MAX_FETCHED_IMAGE_BYTES = 4 * 1024 * 1024;

/** The request field every image fetch error points at. */
export const IMAGE_URL_PARAM = 'image_url';

/** The body, read until it ends or passes the cap (then the rest is never read), within `timeoutMs`. */
export async function readCapped(res: Response, timeoutMs: number): Promise<Uint8Array> {
  const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  // A cancelled stream ends a pending read as if it were done, so the flag tells a cut from an end.
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    void reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (expired) throw fetchFailed(`The image at image_url did not arrive within ${timeoutMs} ms.`);
      if (done) break;
      size += value.byteLength;
      if (size > MAX_FETCHED_IMAGE_BYTES) {
        void reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw fetchFailed('The image at image_url could not be read.', err);
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** ` within N ms` when `err` is a timeout, else nothing: the end of a fetch failure's message. */
export const timedOut = (err: unknown, timeoutMs: number) =>
  err instanceof Error && err.name === 'TimeoutError' ? ` within ${timeoutMs} ms` : '';

/** `400 image_fetch_failed`. */
export const fetchFailed = (message: string, cause?: unknown) =>
  new InvalidRequestError({ code: 'image_fetch_failed', param: IMAGE_URL_PARAM, message, cause });

/** `413 image_too_large`. */
export const tooLarge = () =>
  new RequestTooLargeError({
    code: 'image_too_large',
    param: IMAGE_URL_PARAM,
    message: `The image at image_url is larger than ${MAX_FETCHED_IMAGE_BYTES} bytes.`,
  });
