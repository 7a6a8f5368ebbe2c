import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app-env';
import { NotFoundError } from '../lib/errors';
import { headImage, IMAGE_ID_PATTERN, type ImageInfo, imageUrl, readImage } from '../lib/image-store';

export { imageUrl } from '../lib/image-store';

import { valid } from '../lib/validate';

export const ImageParams = z.object({
  id: z.string().regex(IMAGE_ID_PATTERN, 'must be 64 lower-case hex characters (an image id)'),
});

/** Content-addressed bytes never change, so any cache may keep them for a year without revalidating. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Whether an `If-None-Match` header matches `etag`. RFC 9110 §13.1.2 compares weakly here, so a
 * `W/` prefix is ignored; `*` matches any existing image.
 */
function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((raw) => {
    const tag = raw.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

/** What every answer about an existing image carries, and the entity headers of one with its bytes. */
const validators = (etag: string) => ({
  etag,
  'cache-control': IMMUTABLE,
  'x-content-type-options': 'nosniff',
});
const entityOf = (info: ImageInfo) => ({
  ...validators(info.etag),
  'content-type': info.contentType,
  'content-length': String(info.size),
});

/**
 * `GET /v1/images/:id` (and HEAD): a stored image's bytes. Public, because `<img src>` cannot send a
 * key; the id, a SHA-256 of the image, is the capability (see lib/image-store.ts). A view costs no
 * Redis (the route is not metered) and goes through the data centre's Workers cache (`caches.default`,
 * keyed by the image's canonical URL): a hit reads nothing from R2; a GET that missed reads R2 and puts
 * the bytes in the cache after the response. `x-cache` says which (HIT or MISS). The cache stores
 * nothing on `*.workers.dev` (Cloudflare's rule), where every view reads R2.
 */
export const images = new Hono<AppEnv>().get('/v1/images/:id', valid('param', ImageParams), async (c) => {
  const { id } = c.req.valid('param');
  const revalidating = noneMatchHits(c.req.header('if-none-match'), `"${id}"`);
  // Hono answers HEAD by running this handler and dropping the body, so fetch only the metadata then.
  const wantsBody = c.req.method === 'GET' && !revalidating;
  // The canonical URL, with no request headers: no conditional or range header reaches the cache.
  const key = new Request(imageUrl(new URL(c.req.url).origin, id));
  // The cache is an optimisation: when it fails, the bucket answers.
  const cached = await caches.default.match(key).catch(() => undefined);
  if (cached) return fromCache(c, cached, revalidating, wantsBody);
  const bucket = c.env.IMAGES;
  const image: (ImageInfo & { body?: ReadableStream }) | null = wantsBody
    ? await readImage(bucket, id, c.get('log'))
    : await headImage(bucket, id, c.get('log'));
  if (!image) throw new NotFoundError({ code: 'image_not_found', message: `No image with id ${id}.` });
  const entity = entityOf(image);
  if (revalidating) return c.body(null, 304, { ...validators(image.etag), 'x-cache': 'MISS' });
  if (!image.body) return c.body(null, 200, { ...entity, 'x-cache': 'MISS' });
  const [body, copy] = image.body.tee();
  const stored = caches.default
    .put(key, new Response(copy, { headers: entity }))
    .catch((err: unknown) => c.get('log').warn('image not cached', { cause: err }));
  c.executionCtx.waitUntil(stored);
  return c.body(body, 200, { ...entity, 'x-cache': 'MISS' });
});

/** An answer from the cached response: its bytes, its headers only, or a 304. */
function fromCache(c: Context<AppEnv>, cached: Response, revalidating: boolean, wantsBody: boolean) {
  const entity = Object.fromEntries(
    ['etag', 'cache-control', 'x-content-type-options', 'content-type', 'content-length'].flatMap((name) => {
      const value = cached.headers.get(name);
      return value === null ? [] : [[name, value]];
    }),
  );
  if (wantsBody && cached.body) return c.body(cached.body, 200, { ...entity, 'x-cache': 'HIT' });
  void cached.body?.cancel();
  if (revalidating) return c.body(null, 304, { ...validators(`"${c.req.param('id')}"`), 'x-cache': 'HIT' });
  return c.body(null, 200, { ...entity, 'x-cache': 'HIT' });
}
