import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { cacheFirst } from '../lib/cache-first';
import {
  analysisText,
  IMAGE_ANALYSIS_PROMPT_VERSION,
  ImageAnalysisRequest,
  imageAnalysisTask,
} from '../lib/domain/image-analysis';
import { assertCreativeApproved, assertInputApproved } from '../lib/domain/verdicts';
import { generate, markDegraded } from '../lib/generation';
import { admitsInHandler } from '../lib/guards';
import { imageForModels } from '../lib/image-fetch';
import { modelsFor } from '../lib/model-policy';
import { moderateContent } from '../lib/moderation';
import { servicesOf } from '../lib/request-services';
import { valid } from '../lib/validate';
import { variantField, withVariant } from '../lib/variants';

/**
 * `POST /v1/images/analyze`: an image (https URL or data URL) in, a structured analysis out from the
 * vision model (MODEL_POLICY's `vision`). On a cache miss the gateway fetches a URL's image once
 * (lib/image-fetch.ts: a bad one is a 4xx before anything is reserved or sent upstream), then sends the
 * same bytes to moderation and to the model (#16); a flagged image costs nothing but the free
 * moderation call. The analysis is moderated in turn (422 `creative_rejected`, never cached or
 * served) and cached per image URL and context.
 */
export const imagesAnalyze = new Hono<AppEnv>().post(
  '/v1/images/analyze',
  admitsInHandler,
  valid('json', ImageAnalysisRequest),
  async (c) => {
    const request = c.req.valid('json');
    const env = c.get('env');
    const fields = { image_url: request.image_url, context: request.context };
    const variant = servicesOf(c).variant('vision', fields);
    const result = await cacheFirst(
      c,
      {
        kind: 'image-analysis',
        version: `${IMAGE_ANALYSIS_PROMPT_VERSION}:${modelsFor(env, 'vision').model}`,
        fields: { ...fields, ...variantField(variant) },
        exactFields: ['image_url'],
      },
      async () => {
        const image = await imageForModels(c.get('deps').connections, request.image_url);
        const { verdict } = await moderateContent(servicesOf(c).moderation, {
          imageUrls: [image],
          ...(request.context ? { text: request.context } : {}),
        });
        assertInputApproved(verdict, 'image_url');
        // A rejected analysis counts as rejected for its prompt variant, like an invalid one.
        const made = await generate(servicesOf(c), {
          policyTask: 'vision',
          task: withVariant(imageAnalysisTask(request, image), variant),
          variant,
          finish: async (analysis) => {
            const output = await moderateContent(servicesOf(c).moderation, { text: analysisText(analysis) });
            assertCreativeApproved(output.verdict, 'analysis');
            return analysis;
          },
        });
        return { value: markDegraded(made.data, made.degraded), served: made.served };
      },
      ['moderation', 'vision'],
    );
    return c.json(result.value, 200, result.headers);
  },
);
