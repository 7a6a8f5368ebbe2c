import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app-env';
import { configOf } from '../lib/config';
import { moderateContent } from '../lib/moderation';
import { servedHeaders } from '../lib/providers';
import { servicesOf } from '../lib/request-services';
import { valid } from '../lib/validate';

const MAX_TEXT_CHARS = 10_000;
const MAX_URL_CHARS = 2048;
/** Largest decoded image in a data URL. */
const MAX_IMAGE_BYTES = 1_500_000;
const DATA_URL = /^data:image\/(?:png|jpeg|gif|webp);base64,([A-Za-z0-9+/]+={0,2})$/;

/** An https URL, or a base64 `data:image/…` URL of at most MAX_IMAGE_BYTES. */
const ImageUrl = z.string().superRefine((url, ctx) => {
  if (url.startsWith('data:')) {
    // Checked by length first, so an oversized body is not run through the pattern.
    if (url.length > Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 64) {
      ctx.addIssue({ code: 'custom', message: `image must be at most ${MAX_IMAGE_BYTES} bytes` });
      return;
    }
    const base64 = DATA_URL.exec(url)?.[1];
    if (base64 === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a data:image/(png|jpeg|gif|webp);base64 URL' });
    } else if ((base64.length * 3) / 4 - (base64.match(/=+$/)?.[0].length ?? 0) > MAX_IMAGE_BYTES) {
      ctx.addIssue({ code: 'custom', message: `image must be at most ${MAX_IMAGE_BYTES} bytes` });
    }
    return;
  }
  if (url.length > MAX_URL_CHARS || !URL.canParse(url) || new URL(url).protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must be an https URL or a base64 data:image URL' });
  }
});

export const ModerateRequest = z
  .strictObject({
    text: z.string().max(MAX_TEXT_CHARS).regex(/\S/, 'must not be blank').optional(),
    image_url: ImageUrl.optional(),
  })
  .refine((body) => body.text !== undefined || body.image_url !== undefined, {
    message: 'send text, image_url or both',
  });

/**
 * `POST /v1/moderate`: runs the moderation chain on text and/or one image and reports the verdict
 * (200 whether approved or not). Names the provider and model when the moderation API answered.
 * Moderation calls are free, so no budget is reserved.
 */
export const moderate = new Hono<AppEnv>().post('/v1/moderate', valid('json', ModerateRequest), async (c) => {
  const { text, image_url } = c.req.valid('json');
  const { verdict, served } = await moderateContent(
    {
      providers: servicesOf(c).providers(),
      rules: configOf(c.get('env')).moderation,
      failClosed: c.get('env').MODERATION_FAIL_CLOSED,
      log: c.get('log'),
    },
    { ...(text ? { text } : {}), ...(image_url ? { imageUrls: [image_url] } : {}) },
  );
  c.get('log').info('content moderated', { approved: verdict.approved, layer: verdict.layer });
  return c.json(verdict, 200, served ? servedHeaders(served) : {});
});
