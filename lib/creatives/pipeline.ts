import type { Capability } from '../capabilities';
import { configOf } from '../config';
import { actualCost, priceOf } from '../domain/cost';
import { assertCreativeApproved, assertInputApproved } from '../domain/verdicts';
import type { Env } from '../env';
import { generate, markDegraded, type ServedBy } from '../generation';
import { imageDataUrl, imageUrl, storeImage } from '../image-store';
import { modelsFor } from '../model-policy';
import { moderateContent } from '../moderation';
import { estimateImageCost, type Nanos } from '../pricing';
import type { StructuredTask } from '../providers';
import type { AttemptBilling } from '../providers/router-deps';
import type { Services } from '../services';
import { loadTokenCounter } from '../tokens';
import { type Variant, variantField, withVariant } from '../variants';
import { CREATIVES_PROMPT_VERSION, creativeTask } from './prompt';
import { CREATIVE_IMAGE, type Creative, type CreativeOutput, type CreativeRequest } from './schema';

/** The model-policy tasks that make creatives: one at a time, or several in one call. */
export type CreativeTask = 'creatives' | 'creatives_batch';

/** A creative as cached: everything but the per-response `cache` block. */
export type CreativeValue = Omit<Creative, 'cache'>;

/** What making creatives calls (besides moderation): the copy, and the image when one is asked for. */
export const TEXT_AND_IMAGE: readonly Capability[] = ['text', 'image'];

/** The capabilities making `request`'s creative calls, which size its leases. */
export const creativeCapabilities = (request: CreativeRequest): readonly Capability[] =>
  request.needs_visual ? TEXT_AND_IMAGE : ['text'];

/**
 * What identifies a creative request for the cache and for its prompt variant: normalised category,
 * audience and voice (plus tone and visual), so similar opportunities share one creative.
 */
export function creativeFields(request: CreativeRequest) {
  return {
    product_category: request.opportunity.product_category,
    target_audience: request.target_audience,
    brand_voice: request.brand_voice,
    tone: request.tone,
    needs_visual: request.needs_visual,
  };
}

/** The cache key parts of a creative request; single, batch and bulk creatives share them. */
export function creativeKeyParts(
  env: Env,
  request: CreativeRequest,
  variant?: Variant,
  policyTask: CreativeTask = 'creatives',
) {
  const version = `${CREATIVES_PROMPT_VERSION}:${modelsFor(env, policyTask).model}:${env.OPENAI_IMAGE_MODEL}`;
  return { kind: 'creatives', version, fields: { ...creativeFields(request), ...variantField(variant) } };
}

/**
 * One creative on a cache miss: the input moderated, the worst case (copy, its repair, the image)
 * reserved on the policy's tier, the copy generated and approved, its image made. Anything rejected
 * is `422 creative_rejected`; what it cost is settled either way and counted for its variant.
 */
export async function produceCreative(
  services: Services,
  request: CreativeRequest,
  variant: Variant | undefined,
  policyTask: CreativeTask = 'creatives',
): Promise<{ value: CreativeValue; served: ServedBy }> {
  await moderateCreativeInput(services, request);
  const task = withVariant(creativeTask(request), variant);
  const nanos = request.needs_visual ? await imageWorstCase(services.env, task) : 0;
  const made = await generate(services, {
    policyTask,
    task,
    variant,
    images: { count: request.needs_visual ? 1 : 0, nanos },
    finish: async (copy, { ledger, billing, degraded }) => {
      const value = await approveCreative(
        services,
        copy,
        request.needs_visual,
        (n) => ledger.add(n),
        billing,
      );
      return markDegraded(value, degraded);
    },
    // Returned once made: a rejection throws before this.
    approved: () => 1,
  });
  return { value: made.data, served: made.served };
}

/** The client's opportunity text through all three layers: flagged → `400 content_policy_violation`. */
export async function moderateCreativeInput(services: Services, request: CreativeRequest): Promise<void> {
  const input = [request.opportunity.description, request.target_audience, request.brand_voice].join('\n');
  assertInputApproved((await moderateContent(services.moderation, { text: input })).verdict, 'opportunity');
}

/** The worst case of one creative image whose prompt the copy task writes. */
export async function imageWorstCase(env: Env, task: StructuredTask<unknown>): Promise<Nanos> {
  const { countTextTokens } = await loadTokenCounter();
  return estimateImageCost(
    priceOf(configOf(env).prices, env.OPENAI_IMAGE_MODEL),
    countTextTokens(task.instructions) + 400,
    CREATIVE_IMAGE.size,
    CREATIVE_IMAGE.quality,
  );
}

/**
 * Generated copy through all three layers, then (when asked) its image: generated, moderated and
 * stored. `bill` is told every cost as it is incurred, so a rejection still settles what was spent.
 */
export async function approveCreative(
  services: Services,
  copy: CreativeOutput,
  needsVisual: boolean,
  bill: (nanos: Nanos) => void,
  billing?: AttemptBilling,
): Promise<CreativeValue> {
  const text = `${copy.copy}\n${copy.call_to_action}\n${copy.image_prompt}`;
  const { verdict } = await moderateContent(services.moderation, { text });
  assertCreativeApproved(verdict, 'copy');
  const visual = needsVisual ? await produceImage(services, copy.image_prompt, bill, billing) : null;
  return {
    ...copy,
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
}

/** Generates, moderates and stores the image; only an approved image gets a durable URL. */
async function produceImage(
  services: Services,
  prompt: string,
  bill: (nanos: Nanos) => void,
  billing: AttemptBilling | undefined,
) {
  const generated = await services.providers(billing).image({ prompt, ...CREATIVE_IMAGE });
  bill(actualCost(services.prices, generated.model, generated.value.usage));
  const dataUrl = imageDataUrl(generated.value.bytes, 'image/png');
  const { verdict } = await moderateContent(services.moderation, { imageUrls: [dataUrl] });
  assertCreativeApproved(verdict, 'image');
  const stored = await storeImage(
    services.images,
    generated.value.bytes,
    { model: generated.model, size: generated.value.size, prompt },
    { log: services.log },
  );
  const image = {
    id: stored.id,
    url: imageUrl(services.origin, stored.id),
    model: generated.model,
    size: generated.value.size,
  };
  return { image, openai: verdict.checked.openai };
}
