/**
 * A client's image, fetched once by the Worker, so the moderation API and the vision model are sent the
 * same bytes (#16). Handing both the URL let its server answer each differently: a clean image to the
 * moderator, another to the model.
 *
 * The fetch is bounded on every side, and each refusal is the client's error (`param: image_url`),
 * raised before anything is reserved or sent upstream:
 * - the URL and every redirect hop: https, plain http only to this machine (lib/outbound-url.ts
 *   `isOutboundUrl`) → `400 invalid_image_url`;
 * - at most {@link MAX_IMAGE_REDIRECTS} redirects, followed by hand; no answer within the timeout, a
 *   network error or a status other than 2xx → `400 image_fetch_failed`;
 * - a `content-type` other than PNG, JPEG, WebP or GIF (what OpenAI vision takes) →
 *   `415 unsupported_image_type`;
 * - more than {@link MAX_FETCHED_IMAGE_BYTES}: refused from its `content-length`, or while reading,
 *   which stops at the cap → `413 image_too_large`;
 * - bytes that are none of those four formats → `422 invalid_image`. The media type sent on is the one
 *   the bytes have (a server's label can be wrong).
 *
 * The fetch goes through the invocation's connection pool (its `fetch(timeoutMs)`, upstream lane), whose
 * timeout bounds each hop's wait for headers from the moment it is sent; the body then has the same
 * time again.
 */
import type { ConnectionPool } from './connections';
import { InvalidRequestError, UnprocessableError, UnsupportedMediaTypeError } from './errors';
import {
  fetchFailed,
  IMAGE_URL_PARAM,
  MAX_FETCHED_IMAGE_BYTES,
  readCapped,
  timedOut,
  tooLarge,
} from './image-read';
import { imageDataUrl } from './image-store';
import { sniffImageType } from './image-type';
import { isOutboundUrl } from './outbound-url';

/** The image types OpenAI's vision models accept. */
export const VISION_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
export type VisionImageType = (typeof VISION_IMAGE_TYPES)[number];

/** Redirects followed before giving up. */
export const MAX_IMAGE_REDIRECTS = 3;
/** How long a hop may take to answer, and the body to arrive. */
export const IMAGE_FETCH_TIMEOUT_MS = 10_000;

export interface FetchedImage {
  bytes: Uint8Array;
  /** What the bytes are, by their signature. */
  contentType: VisionImageType;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches `url` under the rules above.
 * @param fetcher the pool's `connections.fetch(IMAGE_FETCH_TIMEOUT_MS)`
 * @throws InvalidRequestError, RequestTooLargeError, UnsupportedMediaTypeError or UnprocessableError
 */
export async function fetchClientImage(
  fetcher: typeof fetch,
  url: string,
  timeoutMs = IMAGE_FETCH_TIMEOUT_MS,
): Promise<FetchedImage> {
  let target = checkedUrl(url);
  for (let redirects = 0; ; redirects += 1) {
    const res = await send(fetcher, target, timeoutMs);
    if (!REDIRECT_STATUSES.has(res.status)) return read(res, target, timeoutMs);
    await res.body?.cancel();
    if (redirects === MAX_IMAGE_REDIRECTS) {
      throw fetchFailed(`The image at image_url redirected more than ${MAX_IMAGE_REDIRECTS} times.`);
    }
    const location = res.headers.get('location');
    const next = location === null ? null : URL.parse(location, target);
    if (!next) throw fetchFailed('The image at image_url redirected without a valid location.');
    target = checkedUrl(next.href, 'redirected to');
  }
}

/**
 * The image as the moderation API and the vision model are sent it: a data URL as the client gave it,
 * any other URL fetched once through `connections` and sent on as a data URL of its bytes.
 */
export async function imageForModels(
  connections: Pick<ConnectionPool, 'fetch'>,
  imageUrl: string,
): Promise<string> {
  if (imageUrl.startsWith('data:')) return imageUrl;
  const image = await fetchClientImage(connections.fetch(IMAGE_FETCH_TIMEOUT_MS), imageUrl);
  return imageDataUrl(image.bytes, image.contentType);
}

function checkedUrl(url: string, how = 'is'): URL {
  const parsed = URL.parse(url);
  if (!parsed || !isOutboundUrl(parsed.href)) {
    throw new InvalidRequestError({
      code: 'invalid_image_url',
      param: IMAGE_URL_PARAM,
      message: `The image URL ${how} ${parsed ? `a ${parsed.protocol} URL` : 'no URL'}; it must be https (plain http only to localhost).`,
    });
  }
  return parsed;
}

async function send(fetcher: typeof fetch, target: URL, timeoutMs: number): Promise<Response> {
  try {
    return await fetcher(target.href, {
      redirect: 'manual',
      headers: { accept: VISION_IMAGE_TYPES.join(', ') },
    });
  } catch (err) {
    throw fetchFailed(`The image at image_url could not be fetched${timedOut(err, timeoutMs)}.`, err);
  }
}

async function read(res: Response, target: URL, timeoutMs: number): Promise<FetchedImage> {
  if (!res.ok) {
    await res.body?.cancel();
    throw fetchFailed(`The image at image_url answered ${res.status} (from ${target.host}).`);
  }
  const declared = res.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!(VISION_IMAGE_TYPES as readonly string[]).includes(declared)) {
    await res.body?.cancel();
    throw new UnsupportedMediaTypeError({
      code: 'unsupported_image_type',
      param: IMAGE_URL_PARAM,
      message: `The image at image_url is ${declared || 'of no stated type'}; it must be ${VISION_IMAGE_TYPES.join(', ')}.`,
    });
  }
  if (Number(res.headers.get('content-length') ?? 0) > MAX_FETCHED_IMAGE_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const bytes = await readCapped(res, timeoutMs);
  const contentType = sniffVisionType(bytes);
  if (!contentType) {
    throw new UnprocessableError({
      code: 'invalid_image',
      param: IMAGE_URL_PARAM,
      message: 'The bytes at image_url are not a PNG, JPEG, WebP or GIF image.',
    });
  }
  return { bytes, contentType };
}

/** PNG, JPEG or WebP by lib/image-store.ts's signatures, or GIF (`GIF87a` / `GIF89a`). */
function sniffVisionType(bytes: Uint8Array): VisionImageType | null {
  const header = String.fromCharCode(...bytes.subarray(0, 6));
  return sniffImageType(bytes) ?? (header === 'GIF87a' || header === 'GIF89a' ? 'image/gif' : null);
}
