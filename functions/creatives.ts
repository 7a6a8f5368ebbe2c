import { type Context, Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import { configOf } from '../lib/config';
import { actualCost, priceOf, worstCaseStructured } from '../lib/domain/cost';
import {
  CREATIVE_IMAGE,
  CREATIVES_PROMPT_VERSION,
  type Creative,
  CreativeRequest,
  creativeTask,
} from '../lib/domain/creatives';
import { assertCreativeApproved, assertInputApproved } from '../lib/domain/verdicts';
import { storeImage } from '../lib/image-store';
import { moderateContent } from '../lib/moderation';
import { estimateImageCost } from '../lib/pricing';
import { cacheFirst, candidateModels, providersFor, spendFor } from '../lib/request-context';
import { loadTokenCounter } from '../lib/tokens';
import { valid } from '../lib/validate';
import { imageUrl } from './images';

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
  valid('json', CreativeRequest),
  async (c) => {
    const request = c.req.valid('json');
    const env = c.get('env');
    const keyVersion = `${CREATIVES_PROMPT_VERSION}:${env.OPENAI_TEXT_MODEL}:${env.OPENAI_IMAGE_MODEL}`;
    const result = await cacheFirst(
      c,
      {
        kind: 'creatives',
        version: keyVersion,
        fields: {
          product_category: request.opportunity.product_category,
          target_audience: request.target_audience,
          brand_voice: request.brand_voice,
          tone: request.tone,
          needs_visual: request.needs_visual,
        },
      },
      async () => {
        const made = await produceCreative(c, request);
        return { value: made.creative, served: made.served };
      },
    );
    const body: Creative = { ...result.value, cache: { status: result.status, key_version: keyVersion } };
    return c.json(body, 200, result.headers);
  },
);

async function produceCreative(c: Context<AppEnv>, request: CreativeRequest) {
  const env = c.get('env');
  const { prices, moderation } = configOf(env);
  const providers = providersFor(c);
  const moderationDeps = {
    providers,
    rules: moderation,
    failClosed: env.MODERATION_FAIL_CLOSED,
    log: c.get('log'),
  };
  const input = [request.opportunity.description, request.target_audience, request.brand_voice].join('\n');
  assertInputApproved((await moderateContent(moderationDeps, { text: input })).verdict, 'opportunity');

  const task = creativeTask(request);
  const imagePrice = priceOf(prices, env.OPENAI_IMAGE_MODEL);
  const { countTextTokens } = await loadTokenCounter();
  const worstCase =
    (await worstCaseStructured(prices, candidateModels(c, 'text'), task)) +
    (request.needs_visual
      ? estimateImageCost(
          imagePrice,
          countTextTokens(task.instructions) + 400,
          CREATIVE_IMAGE.size,
          CREATIVE_IMAGE.quality,
        )
      : 0);
  // Everything billed so far, settled whether the creative is approved or rejected.
  let billed = 0;
  return spendFor(c).run(
    worstCase,
    async () => {
      const copy = await providers.structured(task);
      billed += actualCost(prices, copy.model, copy.usage);
      const text = `${copy.data.copy}\n${copy.data.call_to_action}\n${copy.data.image_prompt}`;
      const verdict = (await moderateContent(moderationDeps, { text })).verdict;
      assertCreativeApproved(verdict, 'copy');
      const visual = request.needs_visual
        ? await produceImage(c, copy.data.image_prompt, (n) => (billed += n))
        : null;
      const creative: Omit<Creative, 'cache'> = {
        ...copy.data,
        image: visual?.image ?? null,
        // Which layers looked: the text's verdict, with OpenAI 'unavailable' if it missed the image.
        moderation: {
          approved: true,
          checked: {
            ...verdict.checked,
            ...(visual?.openai === 'unavailable' ? { openai: 'unavailable' } : {}),
          },
        },
      };
      return { creative, served: { provider: copy.provider, model: copy.model } };
    },
    { value: () => billed, error: () => billed },
  );
}

/** Generates, moderates and stores the image; only an approved image gets a durable URL. */
async function produceImage(c: Context<AppEnv>, prompt: string, bill: (nanos: number) => void) {
  const env = c.get('env');
  const { prices, moderation } = configOf(env);
  const providers = providersFor(c);
  const generated = await providers.image({ prompt, ...CREATIVE_IMAGE });
  bill(actualCost(prices, generated.model, generated.value.usage));
  const dataUrl = `data:image/png;base64,${toBase64(generated.value.bytes)}`;
  const { verdict } = await moderateContent(
    { providers, rules: moderation, failClosed: env.MODERATION_FAIL_CLOSED, log: c.get('log') },
    { imageUrls: [dataUrl] },
  );
  assertCreativeApproved(verdict, 'image');
  const stored = await storeImage(c.env.IMAGES, generated.value.bytes, {
    model: generated.model,
    size: generated.value.size,
    prompt,
  });
  const image = {
    id: stored.id,
    url: imageUrl(new URL(c.req.url).origin, stored.id),
    model: generated.model,
    size: generated.value.size,
  };
  return { image, openai: verdict.checked.openai };
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
