/**
 * The OpenAI-compatible proxy under `/openai/v1`. Bodies are OpenAI's own, validated only as far as
 * pricing and routing need (loose objects: other fields pass through), so answers are described, not
 * restated: they are OpenAI's.
 */

import type { RouteDoc } from '../../lib/openapi/route-doc';
import { ImagesRequest } from '../../lib/proxy/image-schemas';
import {
  ChatCompletionRequest,
  EmbeddingsRequest,
  ModerationsRequest,
  ResponsesRequest,
} from '../../lib/proxy/schemas';
import { CACHED, MODEL_FAILURES } from './failures';

const UNKNOWN_MODEL = { 404: ['`model_not_found`: the gateway does not serve (cannot price) this model.'] };
const PASSED_THROUGH = ["The provider's own 400, 404 and 422 pass through with its `type` and `code`."];
const proxied = (
  path: string,
  operationId: string,
  summary: string,
  description: string,
  body: RouteDoc['body'],
  example: unknown,
  streams = false,
): RouteDoc => ({
  method: 'post',
  path,
  operationId,
  summary,
  description: `${description} Point an OpenAI SDK's base URL at \`/openai/v1\`, with a gateway key as its API key.`,
  tag: 'OpenAI-compatible',
  auth: 'key',
  body,
  example,
  responses: {
    200: {
      description: `OpenAI's answer, as OpenAI sends it.${streams ? ' With `stream: true`, server-sent events (`text/event-stream`); an error after the first event arrives as a final `error` event.' : ''}`,
      content: {
        'application/json': { type: 'object' },
        ...(streams ? { 'text/event-stream': { type: 'string' } } : {}),
      },
      headers: CACHED,
    },
  },
  errors: { 400: PASSED_THROUGH, ...UNKNOWN_MODEL, ...MODEL_FAILURES },
});

export const OPENAI_ROUTES: RouteDoc[] = [
  proxied(
    '/openai/v1/chat/completions',
    'openaiChatCompletions',
    'Chat Completions',
    'The only API a backup provider can serve too, so the reservation covers the dearest candidate.',
    ChatCompletionRequest,
    { model: 'gpt-6-luna', messages: [{ role: 'user', content: 'Name three autumn hiking essentials.' }] },
    true,
  ),
  proxied(
    '/openai/v1/responses',
    'openaiResponses',
    'Responses',
    'By the primary only. Server-side state (`previous_response_id`, `conversation`, stored prompts, `background`) is refused: it cannot be priced before the call.',
    ResponsesRequest,
    { model: 'gpt-6-luna', input: 'Name three autumn hiking essentials.' },
    true,
  ),
  proxied(
    '/openai/v1/embeddings',
    'openaiEmbeddings',
    'Embeddings',
    'Cached: the same input always embeds the same. By the primary only.',
    EmbeddingsRequest,
    { model: 'text-embedding-3-large', input: 'waterproof hiking boots' },
  ),
  proxied(
    '/openai/v1/moderations',
    'openaiModerations',
    'Moderations',
    'Cached and free (nothing is reserved); without `model`, `OPENAI_MODERATION_MODEL`.',
    ModerationsRequest,
    { input: 'Fresh coffee beans, roasted this week.' },
  ),
  proxied(
    '/openai/v1/images/generations',
    'openaiImagesGenerations',
    'Image generation',
    'Never cached; relayed as it arrives, never held. At most 10,485,760 pixels per request (`n` × size, `auto` as 1536x1024), else 400 with `param: n`. Without `model`, `OPENAI_IMAGE_MODEL`; without a size or quality the reservation assumes the dearest.',
    ImagesRequest,
    { prompt: 'A pair of hiking boots on a mossy rock, product photo', size: '1024x1024', quality: 'low' },
  ),
  {
    method: 'get',
    path: '/openai/v1/models',
    operationId: 'openaiListModels',
    summary: 'The models this gateway serves',
    description: "Every model it can price, in OpenAI's list shape; no upstream call.",
    tag: 'OpenAI-compatible',
    auth: 'key',
    responses: { 200: { description: '`{"object": "list", "data": [{id, object, created, owned_by}]}`.' } },
  },
  {
    method: 'get',
    path: '/openai/v1/models/{model}',
    operationId: 'openaiGetModel',
    summary: 'One served model',
    description: "In OpenAI's model shape.",
    tag: 'OpenAI-compatible',
    auth: 'key',
    responses: { 200: { description: '`{id, object, created, owned_by}`.' } },
    errors: UNKNOWN_MODEL,
  },
];
