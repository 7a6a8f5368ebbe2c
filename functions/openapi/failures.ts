/** Failures and headers that several routes share, as the document lists them. */

/** Failures of every route that calls a model. */
export const MODEL_FAILURES: Record<number, string[]> = {
  429: [
    "`budget_exceeded` (type `insufficient_quota`): the worst case does not fit today's gateway or key budget; `details` says which.",
    '`upstream_capacity`: the gateway is at its own rate limit towards OpenAI.',
    "`unit_limit_exceeded`: the work would take more of the key's units per minute than it has left; see `Retry-After`.",
  ],
  413: ['`units_exceed_limit`: the work needs more units than the key may start in a minute (docs/keys.md).'],
  502: [
    '`upstream_error`: the provider failed.',
    '`invalid_model_output`: the answer stayed invalid after a repair.',
  ],
  503: [
    '`provider_unavailable`: every provider is failing or its breaker is open; see `Retry-After`.',
    '`overloaded`: the gateway is shedding load (the request waited as long as it may for its start); retry after `Retry-After`.',
  ],
  504: ['`upstream_timeout`: the provider did not answer in time.'],
};

/** The image bucket failed twice in a row (lib/image-store.ts); what the image cost is still charged. */
export const IMAGE_STORE_UNAVAILABLE =
  '`image_store_unavailable`: the image store (R2) failed to read or store an image, twice; retry after `Retry-After`.';

export const FLAGGED_INPUT =
  '`content_policy_violation`: moderation refused the input; `details` holds the verdict.';

export const SERVED_BY = {
  'x-gateway-provider': 'Who served the answer (absent on a cache hit).',
  'x-gateway-model': 'The model that served it.',
};

/** Headers of the cache-first routes. */
export const CACHED = {
  'x-cache':
    '`HIT`, `MISS`, `COALESCED` (waited for an identical request) or `BYPASS` (`cache-control: no-cache` asks for a fresh answer).',
  ...SERVED_BY,
};
