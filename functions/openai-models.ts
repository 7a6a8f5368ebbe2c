import { Hono } from 'hono';
import type { AppEnv } from '../lib/app';
import { configOf } from '../lib/config';
import { NotFoundError } from '../lib/errors';
import { servedModels } from '../lib/proxy/models';

/**
 * `GET /openai/v1/models` (and `/models/{id}`): the models this gateway serves, in OpenAI's list
 * shape, without an upstream call: every model it can price.
 */
export const openaiModels = new Hono<AppEnv>()
  .get('/openai/v1/models', (c) => {
    const env = c.get('env');
    return c.json({ object: 'list', data: servedModels(configOf(env).prices, env.PRICING_OVERRIDES) });
  })
  .get('/openai/v1/models/:model', (c) => {
    const env = c.get('env');
    const id = c.req.param('model');
    const model = servedModels(configOf(env).prices, env.PRICING_OVERRIDES).find((m) => m.id === id);
    if (!model) {
      throw new NotFoundError({
        message: `The model '${id}' is not served by this gateway.`,
        code: 'model_not_found',
        param: 'model',
      });
    }
    return c.json(model);
  });
