import { z } from 'zod';
import { CAPABILITIES, REASONING_EFFORTS, TASKS } from './capabilities.ts';
import { outboundUrl } from './setting-fields.ts';

/** The shapes of the settings given as JSON: backups, price overrides, model policy, prompt variants. */

/** One backup provider: any OpenAI-compatible endpoint (Gemini's and Anthropic's compatibility layers). */
export const BackupProviderSpec = z.strictObject({
  /** Lower-case name used in headers, metrics and breaker keys. */
  name: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be 1-32 lower-case letters, digits or dashes'),
  base_url: outboundUrl(),
  /** Name of the secret that holds this provider's key, e.g. GEMINI_API_KEY. */
  api_key_env: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must name an environment variable'),
  /** Whether it honours `response_format: json_schema`; without it the schema goes into the prompt. */
  structured_outputs: z.boolean().default(false),
  /** The model serving each capability; a capability without a model is not offered by this backup. */
  models: z.partialRecord(z.enum(CAPABILITIES), z.string().min(1)),
});
export type BackupProviderSpec = z.output<typeof BackupProviderSpec>;

/** One PRICING_OVERRIDES entry (USD per 1M tokens); mirrors PriceOverride in lib/pricing/overrides.ts. */
export const PriceOverrideSpec = z.strictObject({
  kind: z.enum(['text', 'image', 'embedding', 'moderation']),
  inputPerMillion: z.number().min(0).optional(),
  cachedInputPerMillion: z.number().min(0).optional(),
  cacheWritePerMillion: z.number().min(0).optional(),
  outputPerMillion: z.number().min(0).optional(),
  imageOutputTokens: z
    .strictObject({
      low: z.number().int().positive(),
      medium: z.number().int().positive(),
      high: z.number().int().positive(),
    })
    .optional(),
  longContextInputTokens: z.number().int().positive().optional(),
});

export const ModelPolicySpec = z.partialRecord(
  z.enum(TASKS),
  z.strictObject({
    /** The primary's model for this task; backups keep their configured models. */
    model: z.string().trim().min(1).optional(),
    /** The cheaper model used once the day's spend passes the alert threshold. Unset: never degrade. */
    degrade_to: z.string().trim().min(1).optional(),
    /** How hard a reasoning model thinks on this task; sizes its output cap. @default 'low' */
    reasoning_effort: z.enum(REASONING_EFFORTS).optional(),
  }),
);
export type ModelPolicySpec = z.output<typeof ModelPolicySpec>;

const PromptVariantSpec = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1-32 lower-case letters, digits, _ or -'),
  /** Relative share of traffic; 0 turns the variant off without deleting it. */
  weight: z.number().min(0).max(1000),
  /** Added to the task's instructions; empty for the control. */
  instructions: z.string().max(2000).default(''),
});
export const PromptVariantsSpec = z.partialRecord(
  z.enum(['opportunities', 'creatives', 'vision']),
  z
    .array(PromptVariantSpec)
    .min(1)
    .max(10)
    .refine((list) => new Set(list.map((v) => v.name)).size === list.length, 'variant names must be unique')
    .refine((list) => list.some((v) => v.weight > 0), 'at least one variant needs a positive weight'),
);
export type PromptVariantSpec = z.output<typeof PromptVariantSpec>;
