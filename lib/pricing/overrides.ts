import {
  CACHE_WRITE_FACTOR,
  GPT_IMAGE_OUTPUT_TOKENS,
  type ImageQuality,
  type ModelPrice,
  type PriceKind,
} from './prices';

/** `PRICING_OVERRIDES` entries (lib/pricing.ts applies them): merged onto the built-in prices, then checked. */

/** One entry of `PRICING_OVERRIDES`: replaces a built-in model's fields, or adds a model. */
export type PriceOverride = Partial<ModelPrice> & Pick<ModelPrice, 'kind'>;

/**
 * `override` applied to `base`: only the fields it names when the kinds agree, else a whole model
 * whose missing rates take defaults (cached input at the input rate, the gpt-image token counts).
 */
export function applyOverride(base: ModelPrice | undefined, override: PriceOverride): Partial<ModelPrice> {
  const fields = Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined));
  if (base && base.kind === override.kind) return { ...base, ...fields };
  const defaults: Partial<ModelPrice> =
    override.kind === 'moderation'
      ? { inputPerMillion: 0, cachedInputPerMillion: 0, outputPerMillion: 0 }
      : {
          cachedInputPerMillion: override.inputPerMillion,
          ...(override.kind === 'text' && override.inputPerMillion !== undefined
            ? { cacheWritePerMillion: override.inputPerMillion * CACHE_WRITE_FACTOR }
            : {}),
          ...(override.kind === 'embedding' ? { outputPerMillion: 0 } : {}),
          ...(override.kind === 'image' ? { imageOutputTokens: GPT_IMAGE_OUTPUT_TOKENS } : {}),
        };
  return { ...defaults, ...fields };
}

const RATES = ['inputPerMillion', 'cachedInputPerMillion', 'outputPerMillion'] as const;
const KINDS: readonly PriceKind[] = ['text', 'image', 'embedding', 'moderation'];
const QUALITIES: readonly ImageQuality[] = ['low', 'medium', 'high'];
/** Why a merged price cannot be used, or undefined when it can. */
export function priceProblem(price: Partial<ModelPrice>): string | undefined {
  if (!price.kind || !KINDS.includes(price.kind)) return `kind must be one of ${KINDS.join(', ')}`;
  for (const rate of RATES) {
    const value = price[rate];
    if (value === undefined) return `${rate} is required for a new model`;
    if (!Number.isFinite(value) || value < 0) return `${rate} must be a non-negative number`;
  }
  if (price.kind === 'image') {
    const counts = price.imageOutputTokens;
    const valid = counts && QUALITIES.every((q) => Number.isInteger(counts[q]) && counts[q] > 0);
    if (!valid) return 'imageOutputTokens must give positive whole low, medium and high counts';
  }
  return undefined;
}
