/** Opportunities and creatives, one at a time, many in one call, or as a bulk job. */
import { CreativeRequest } from '../../lib/creatives/schema';
import { OpportunitiesRequest } from '../../lib/domain/opportunities';
import type { RouteDoc } from '../../lib/openapi/route-doc';
import { BulkRequest, Page } from '../batches';
import { BatchRequest } from '../creatives-batch';
import { CACHED, FLAGGED_INPUT, IMAGE_STORE_UNAVAILABLE, MODEL_FAILURES } from './failures';
import { BatchResponse, CreativeBody, OpportunitiesBody } from './schemas';

const creativeExample = {
  opportunity: {
    id: 'opp_1a2b3c4d5e6f7a8b',
    product_category: 'outdoor footwear',
    description: 'Waterproof hiking boots for rainy autumn trails',
  },
  target_audience: 'weekend hikers',
  brand_voice: 'warm and practical',
  tone: 'informative',
  needs_visual: false,
};

const JOB =
  'The job: `id`, `task`, `status` (`validating` … `completed`, `failed`, `expired`, `cancelled`), `model`, `counts` (total, submitted, completed, failed, approved, rejected, errored), `cost` (`reserved_usd`, `spent_usd`, `settled`), `metadata`, `created_at`, `finished_at`.';
const NO_JOB = { 404: ['`not_found`: no job with this id belongs to the calling key.'] };

export const GENERATION_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/opportunities',
    operationId: 'createOpportunities',
    summary: 'Find commercial opportunities in a shopper intent',
    description:
      'Cache first. On a miss the intent is moderated, the worst case is reserved from the budget, one structured generation runs behind retries, breaker and backups, and the validated answer is moderated by all three layers, then cached. A rejected answer is never returned or cached; what it cost is still charged. Up to five opportunities, most relevant first, each with a stable id.',
    tag: 'Generation',
    auth: 'key',
    body: OpportunitiesRequest,
    example: {
      intent: 'waterproof boots for a rainy autumn hike',
      context: { locale: 'en-GB', price_band: 'mid' },
    },
    responses: { 200: { description: 'The opportunities.', schema: OpportunitiesBody, headers: CACHED } },
    errors: {
      400: [FLAGGED_INPUT],
      422: [
        '`creative_rejected`: the generated opportunities failed moderation; `details` holds the verdict.',
      ],
      ...MODEL_FAILURES,
    },
  },
  {
    method: 'post',
    path: '/v1/creatives',
    operationId: 'createCreative',
    summary: 'Write a moderated ad creative for an opportunity',
    description:
      'Cache first, keyed on the normalised category, audience and brand voice. On a miss the copy is generated and moderated by all three layers; with `needs_visual` (the default) an image is generated, moderated and stored, and `image.url` serves it. A rejected creative is never returned; what it cost is still charged.',
    tag: 'Generation',
    auth: 'key',
    body: CreativeRequest,
    example: creativeExample,
    responses: { 200: { description: 'The creative.', schema: CreativeBody, headers: CACHED } },
    errors: {
      400: [FLAGGED_INPUT],
      422: [
        '`creative_rejected`: the generated copy or image failed moderation; `details` holds the verdict.',
      ],
      ...MODEL_FAILURES,
      503: [...(MODEL_FAILURES[503] ?? []), IMAGE_STORE_UNAVAILABLE],
    },
  },
  {
    method: 'post',
    path: '/v1/creatives/batch',
    operationId: 'createCreativesBatch',
    summary: 'Write many creatives in one model call',
    description:
      'Each item is a `POST /v1/creatives` body, validated on its own: an invalid or rejected item fails alone, in its `results` entry. Results keep the input order; cache misses are written by one structured call, and each result says what it cost. At most `CREATIVES_BATCH_MAX_ITEMS` items.',
    tag: 'Generation',
    auth: 'key',
    body: BatchRequest,
    example: { items: [creativeExample, { ...creativeExample, target_audience: 'trail runners' }] },
    responses: {
      200: {
        description: 'One result per item, in input order.',
        schema: BatchResponse,
        headers: { 'x-batch-served': 'Items that succeeded.', 'x-batch-failed': 'Items that failed.' },
      },
    },
    errors: MODEL_FAILURES,
  },
  {
    method: 'post',
    path: '/v1/batches',
    operationId: 'createBulkJob',
    summary: "Submit a bulk job to OpenAI's Batch API",
    description:
      'Half the price, results within 24 hours. Each item is the body of the single endpoint named by `task`, validated and screened by the local moderation layers; the worst case is reserved at the batch price. Results are moderated and cached as they are collected, so a later single call with the same request is a cache hit. At most `BULK_MAX_ITEMS` items (10,000 at most) in a body of at most 4 MB (413 `request_too_large` past it).',
    tag: 'Generation',
    auth: 'key',
    body: BulkRequest,
    example: {
      task: 'opportunities',
      items: [{ intent: 'a gift for a coffee lover' }],
      metadata: { campaign: 'autumn' },
    },
    responses: { 202: { description: `Accepted. ${JOB}` } },
    errors: {
      400: [FLAGGED_INPUT],
      429: MODEL_FAILURES[429] ?? [],
      502: ['`upstream_error`: the upload or the batch could not be created (the reservation is released).'],
    },
  },
  {
    method: 'get',
    path: '/v1/batches/{id}',
    operationId: 'getBulkJob',
    summary: 'A bulk job, with its results once final',
    description:
      'Progress until the job is final; then `results` in input order, paged by `offset` and `limit`.',
    tag: 'Generation',
    auth: 'key',
    query: Page,
    responses: {
      200: { description: `${JOB} Once final also \`results\`, \`offset\`, \`limit\`, \`has_more\`.` },
    },
    errors: NO_JOB,
  },
  {
    method: 'post',
    path: '/v1/batches/{id}/cancel',
    operationId: 'cancelBulkJob',
    summary: 'Cancel a bulk job',
    description: 'Stops the batch; what it had billed is still settled.',
    tag: 'Generation',
    auth: 'key',
    responses: { 200: { description: `The cancelled job. ${JOB}` } },
    errors: { ...NO_JOB, 409: ['`conflict`: the job is final, or has finished running.'] },
  },
];
