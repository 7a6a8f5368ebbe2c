import { SimHttpError } from './errors.ts';
import type { RouteResult, SimRoute } from './routes.ts';

/** The models `GET /v1/models` lists; other model ids are still accepted everywhere. */
export const LISTED_MODELS = [
  'gpt-6.1-sol',
  'gpt-6-luna',
  'gpt-5.6-luna',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-image-2',
  'gpt-image-2.5-sunburst',
  'gpt-image-2.5-flare',
  'omni-moderation-latest',
  'text-embedding-3-large',
  'text-embedding-3-small',
  'text-embedding-ada-002',
];

/** Fixed so that listings are stable: 2024-05-13T00:00:00Z. */
const CREATED = 1715558400;

function modelObject(id: string) {
  return { id, object: 'model', created: CREATED, owned_by: 'system' };
}

/** `GET /v1/models` and `GET /v1/models/{id}` (404 `model_not_found` for unlisted ids). */
export const modelsRoute: SimRoute = {
  method: 'GET',
  endpoint: '/v1/models',
  matches: (path) => path === '/v1/models' || path.startsWith('/v1/models/'),
  handle(_body, _ctx, path): RouteResult {
    if (path === '/v1/models')
      return { kind: 'json', body: { object: 'list', data: LISTED_MODELS.map(modelObject) } };
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    if (!LISTED_MODELS.includes(id)) {
      throw new SimHttpError(404, `The model '${id}' does not exist or you do not have access to it.`, {
        param: 'model',
        code: 'model_not_found',
      });
    }
    return { kind: 'json', body: modelObject(id) };
  },
};
