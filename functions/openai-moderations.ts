import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { configOf } from '../lib/config';
import { admitsInHandler } from '../lib/guards';
import { proxy } from '../lib/proxy/admission';
import { servedModel } from '../lib/proxy/models';
import { ModerationsRequest } from '../lib/proxy/schemas';
import { valid } from '../lib/validate';

/**
 * `POST /openai/v1/moderations`, passed through and cached. Moderation is free, so nothing is
 * reserved; a request without a model gets OPENAI_MODERATION_MODEL, so the breaker knows which model
 * it guards.
 */
export const moderations = new Hono<AppEnv>().post(
  '/openai/v1/moderations',
  admitsInHandler,
  valid('json', ModerationsRequest),
  async (c) => {
    const request = c.req.valid('json');
    const model = request.model ?? c.get('env').OPENAI_MODERATION_MODEL;
    servedModel(configOf(c.get('env')).prices, model, 'moderation');
    return proxy(c, {
      path: '/moderations',
      capability: 'moderation',
      backups: false,
      model,
      body: request,
      upstream: request,
      estimate: () => ({ nanos: 0, units: 0 }),
      usage: () => undefined,
      cache: 'deterministic',
    });
  },
);
