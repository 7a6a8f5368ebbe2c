import { Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import { configOf } from '../lib/config';
import { structuredCost, worstCaseStructured } from '../lib/domain/cost';
import {
  IMAGE_ANALYSIS_PROMPT_VERSION,
  ImageAnalysisRequest,
  imageAnalysisTask,
} from '../lib/domain/image-analysis';
import { assertInputApproved } from '../lib/domain/verdicts';
import { moderateContent } from '../lib/moderation';
import { cacheFirst, candidateModels, providersFor, spendFor } from '../lib/request-context';
import { valid } from '../lib/validate';

/**
 * `POST /v1/images/analyze`: an image (https URL or data URL) in, a structured analysis out from the
 * vision model. The image is moderated first (a flagged image costs nothing but the free moderation
 * call); the analysis is cached per image and context.
 */
export const imagesAnalyze = new Hono<AppEnv>().post(
  '/v1/images/analyze',
  valid('json', ImageAnalysisRequest),
  async (c) => {
    const request = c.req.valid('json');
    const env = c.get('env');
    const { prices, moderation } = configOf(env);
    const providers = providersFor(c);
    const task = imageAnalysisTask(request);
    const result = await cacheFirst(
      c,
      {
        kind: 'image-analysis',
        version: `${IMAGE_ANALYSIS_PROMPT_VERSION}:${env.OPENAI_VISION_MODEL}`,
        fields: { image_url: request.image_url, context: request.context },
        exactFields: ['image_url'],
      },
      async () => {
        const { verdict } = await moderateContent(
          { providers, rules: moderation, failClosed: env.MODERATION_FAIL_CLOSED, log: c.get('log') },
          { imageUrls: [request.image_url], ...(request.context ? { text: request.context } : {}) },
        );
        assertInputApproved(verdict, 'image_url');
        const analysed = await spendFor(c).run(
          await worstCaseStructured(prices, candidateModels(c, 'vision'), task),
          () => providers.structured(task),
          structuredCost(prices, env.OPENAI_VISION_MODEL),
        );
        return { value: analysed.data, served: { provider: analysed.provider, model: analysed.model } };
      },
    );
    return c.json(result.value, 200, result.headers);
  },
);
