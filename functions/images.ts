import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app';
import { NotFoundError } from '../lib/errors';
import { headImage, IMAGE_ID_PATTERN, type ImageInfo, readImage } from '../lib/image-store';

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

/**
 * `GET /v1/images/:id` (and HEAD): a stored image's bytes. Public, because `<img src>` cannot send a
 * key; the id, a SHA-256 of the image, is the capability (see lib/image-store.ts).
 */
export const images = new Hono<AppEnv>().get('/v1/images/:id', valid('param', ImageParams), async (c) => {
  const { id } = c.req.valid('param');
  const bucket = c.env.IMAGES;
  const revalidating = noneMatchHits(c.req.header('if-none-match'), `"${id}"`);
  // Hono answers HEAD by running this handler and dropping the body, so fetch only the metadata then.
  const wantsBody = c.req.method === 'GET' && !revalidating;
  const image: (ImageInfo & { body?: ReadableStream }) | null = wantsBody
    ? await readImage(bucket, id)
    : await headImage(bucket, id);
  if (!image) throw new NotFoundError({ code: 'image_not_found', message: `No image with id ${id}.` });
  const headers = { etag: image.etag, 'cache-control': IMMUTABLE, 'x-content-type-options': 'nosniff' };
  if (revalidating) return c.body(null, 304, headers);
  const entity = { ...headers, 'content-type': image.contentType, 'content-length': String(image.size) };
  return image.body ? c.body(image.body, 200, entity) : c.body(null, 200, entity);
});
