import { type Context, Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { configOf } from '../lib/config';
import { NotFoundError } from '../lib/errors';
import { servedModels } from '../lib/proxy/models';

/**
 * `GET /openai/v1/models` (and `/models/{id}`): the models this gateway serves the caller, in OpenAI's
 * list shape, without an upstream call: every model it can price, narrowed to the key's allow-list.
 */
export const openaiModels = new Hono<AppEnv>()
  .get('/openai/v1/models', (c) => {
    return c.json({ object: 'list', data: modelsFor(c) });
  })
  .get('/openai/v1/models/:model', (c) => {
    const id = c.req.param('model');
    const model = modelsFor(c).find((m) => m.id === id);
    if (!model) {
      throw new NotFoundError({
        message: `The model '${id}' is not served by this gateway.`,
        code: 'model_not_found',
        param: 'model',
      });
    }
    return c.json(model);
  });

function modelsFor(c: Context<AppEnv>) {
  const env = c.get('env');
  const { models: allowed } = c.get('principal');
  const served = servedModels(configOf(env).prices, env.PRICING_OVERRIDES);
  return allowed ? served.filter((m) => allowed.includes(m.id)) : served;
}
