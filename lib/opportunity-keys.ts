/**
 * The cache key of an opportunities request: single and bulk requests share it, so a bulk result is a
 * hit for a later single call. (Kept out of lib/domain, which stays importable by plain Node scripts.)
 */
import type { OpportunitiesRequest } from './domain/opportunities';
import { OPPORTUNITIES_PROMPT_VERSION } from './domain/opportunities-prompt';
import type { Env } from './env';
import { modelsFor } from './model-policy';
import { type Variant, variantField } from './variants';

/** What identifies an opportunities request for the cache and for its prompt variant. */
export function opportunityFields(request: OpportunitiesRequest) {
  return { intent: request.intent, context: request.context };
}

/** The cache key parts of an opportunities request; single and bulk requests share them. */
export function opportunityKeyParts(env: Env, request: OpportunitiesRequest, variant?: Variant) {
  return {
    kind: 'opportunities',
    version: `${OPPORTUNITIES_PROMPT_VERSION}:${modelsFor(env, 'opportunities').model}`,
    fields: { ...opportunityFields(request), ...variantField(variant) },
  };
}
