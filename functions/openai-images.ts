import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { configOf } from '../lib/config';
import { admitsInHandler } from '../lib/guards';
import { proxy } from '../lib/proxy/admission';
import { imagesCost, promptTokens } from '../lib/proxy/estimate';
import { ImagesRequest } from '../lib/proxy/image-schemas';
import { servedModel } from '../lib/proxy/models';
import { imagesUsage } from '../lib/proxy/usage';
import { valid } from '../lib/validate';

/**
 * `POST /openai/v1/images/generations`, passed through by the primary; never cached (base64 images do
 * not belong in Redis) and relayed as it arrives, its usage read on the way, so the isolate never holds
 * a whole answer; `n` × pixels is capped in the schema (lib/proxy/image-limits.ts). A request without a
 * model gets OPENAI_IMAGE_MODEL (OpenAI's own default is a retired model the gateway cannot price);
 * without a size or quality the reservation assumes the dearest the model may pick.
 */
export const imagesGenerations = new Hono<AppEnv>().post(
  '/openai/v1/images/generations',
  admitsInHandler,
  valid('json', ImagesRequest),
  async (c) => {
    const request = c.req.valid('json');
    const model = request.model ?? c.get('env').OPENAI_IMAGE_MODEL;
    const price = servedModel(configOf(c.get('env')).prices, model, 'image');
    return proxy(c, {
      path: '/images/generations',
      capability: 'image',
      backups: false,
      model,
      body: request,
      upstream: request,
      estimate: (counter) => {
        const tokens = promptTokens(counter, [request.prompt], []);
        const n = request.n ?? 1;
        const nanos = imagesCost(price, tokens, n, request.size ?? 'auto', request.quality ?? 'auto');
        return { nanos, units: n };
      },
      usage: imagesUsage,
      cache: 'never',
      // Megabytes of base64 per image: relayed as it arrives, never held whole (issue #15).
      relay: 'json',
    });
  },
);
