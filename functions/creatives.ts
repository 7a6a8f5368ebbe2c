import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { cacheFirst } from '../lib/cache-first';
import {
  creativeCapabilities,
  creativeFields,
  creativeKeyParts,
  produceCreative,
} from '../lib/creatives/pipeline';
import { type Creative, CreativeRequest } from '../lib/creatives/schema';
import { admitsInHandler } from '../lib/guards';
import { servicesOf } from '../lib/request-services';
import { valid } from '../lib/validate';

/**
 * `POST /v1/creatives` (the platform's NIAS). Cache first, keyed on the normalised product category,
 * audience and brand voice (plus tone, visual and versions), so similar opportunities reuse one
 * creative. On a miss: the client's text is moderated, the worst case (copy, its repair, the image) is
 * reserved, the copy is generated and moderated by all three layers, the image is generated,
 * moderated and stored in R2 under its content hash. Anything rejected is `422 creative_rejected`,
 * never cached and never returned; what it cost is still settled.
 */
export const creatives = new Hono<AppEnv>().post(
  '/v1/creatives',
  admitsInHandler,
  valid('json', CreativeRequest),
  async (c) => {
    const request = c.req.valid('json');
    const variant = servicesOf(c).variant('creatives', creativeFields(request));
    const parts = creativeKeyParts(c.get('env'), request, variant);
    const result = await cacheFirst(
      c,
      parts,
      () => produceCreative(servicesOf(c), request, variant),
      creativeCapabilities(request),
    );
    const body: Creative = { ...result.value, cache: { status: result.status, key_version: parts.version } };
    return c.json(body, 200, result.headers);
  },
);
