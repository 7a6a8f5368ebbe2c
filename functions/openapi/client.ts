/** Analysis (moderation, images, similarity), generated images and the budget. */
import { ImageAnalysisRequest } from '../../lib/domain/image-analysis';
import type { RouteDoc } from '../../lib/openapi/route-doc';
import { ImageParams } from '../images';
import { MatchRequest } from '../match';
import { ModerateRequest } from '../moderate';
import { CACHED, FLAGGED_INPUT, IMAGE_STORE_UNAVAILABLE, MODEL_FAILURES, SERVED_BY } from './failures';
import { BudgetResponse, ImageAnalysisBody, MatchResponse, VerdictBody } from './schemas';

/** A 1×1 PNG, so "Try it out" works without reaching any other host. */
const TINY_PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

export const CLIENT_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/images/analyze',
    operationId: 'analyzeImage',
    summary: 'Describe an image, its products and opportunities',
    description:
      'An https URL (plain http only to localhost) or a base64 data URL (at most 700 KB decoded). The gateway fetches a URL once (at most 3 redirects, each https; at most 4 MiB; PNG, JPEG, WebP or GIF) and sends those same bytes to moderation and to the vision model; a bad image is refused before anything is reserved. The analysis is moderated too, then cached per image URL and context.',
    tag: 'Analysis',
    auth: 'key',
    body: ImageAnalysisRequest,
    example: { image_url: TINY_PNG, context: 'a product page hero image' },
    responses: { 200: { description: 'The analysis.', schema: ImageAnalysisBody, headers: CACHED } },
    errors: {
      400: [
        FLAGGED_INPUT,
        '`invalid_image_url`: the URL, or a redirect, is not https (plain http only to localhost).',
        '`image_fetch_failed`: the image could not be fetched: no answer in time, an error status, or more than 3 redirects.',
      ],
      413: ['`image_too_large`: the image at `image_url` is larger than 4 MiB.'],
      415: ['`unsupported_image_type`: the image is served as something other than PNG, JPEG, WebP or GIF.'],
      422: [
        '`invalid_image`: the bytes at `image_url` are no PNG, JPEG, WebP or GIF image.',
        '`creative_rejected`: moderation refused the analysis; it is neither returned nor cached.',
      ],
      ...MODEL_FAILURES,
    },
  },
  {
    method: 'post',
    path: '/v1/moderate',
    operationId: 'moderate',
    summary: 'Run the moderation chain on text and/or an image',
    description:
      'OpenAI moderation, then the business rules, then brand safety. Answers 200 whether approved or not; `layer` and `reason` say who refused. Free: no budget is reserved.',
    tag: 'Analysis',
    auth: 'key',
    body: ModerateRequest,
    example: { text: 'Fresh coffee beans, roasted this week.' },
    responses: { 200: { description: 'The verdict.', schema: VerdictBody, headers: SERVED_BY } },
    errors: { 503: MODEL_FAILURES[503] ?? [] },
  },
  {
    method: 'post',
    path: '/v1/match',
    operationId: 'match',
    summary: 'Rank candidates by similarity to an intent',
    description:
      "Cosine similarity of embeddings, best first. Each text's embedding is cached, so only texts never seen are embedded (in one budgeted call). At most 100 candidates, with unique ids.",
    tag: 'Analysis',
    auth: 'key',
    body: MatchRequest,
    example: {
      intent: 'a gift for a coffee lover',
      candidates: [
        { id: 'sku-1', text: 'Burr coffee grinder' },
        { id: 'sku-2', text: 'Yoga mat' },
      ],
    },
    responses: { 200: { description: 'The ranking.', schema: MatchResponse, headers: SERVED_BY } },
    errors: MODEL_FAILURES,
  },
  {
    method: 'get',
    path: '/v1/images/{id}',
    operationId: 'getImage',
    summary: 'A generated image',
    description:
      'Public, so `<img src>` works: the id is the SHA-256 of the image, unguessable without it. Immutable; `If-None-Match` gets a 304. `HEAD` is answered too.',
    tag: 'Images',
    auth: 'none',
    params: ImageParams,
    responses: {
      200: {
        description: 'The image bytes.',
        content: { 'image/png': {}, 'image/jpeg': {}, 'image/webp': {} },
        headers: { etag: 'The image id, quoted.', 'cache-control': '`public, max-age=31536000, immutable`' },
      },
      304: { description: 'Not modified (`If-None-Match` matched).' },
    },
    errors: { 404: ['`image_not_found`: no image has this id.'], 503: [IMAGE_STORE_UNAVAILABLE] },
  },
  {
    method: 'get',
    path: '/v1/budget',
    operationId: 'getBudget',
    summary: "Today's budget and the history: the caller's own",
    description:
      "A client key sees its own day (limit, spent, reserved, remaining, calls) and up to 30 archived days of its own (`scope: key`), nothing of the gateway or other keys. The admin key sees the gateway's budget with its alerts, every key's figures in `keys` and the gateway's history (`scope: gateway`, `key` null).",
    tag: 'Budget',
    auth: 'key',
    responses: { 200: { description: 'The figures, in USD.', schema: BudgetResponse } },
  },
];
