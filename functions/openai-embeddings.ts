import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { configOf } from '../lib/config';
import { admitsInHandler } from '../lib/guards';
import { estimateTextCost } from '../lib/pricing';
import { proxy } from '../lib/proxy/admission';
import { embeddingInputs, embeddingTokens } from '../lib/proxy/estimate';
import { servedModel } from '../lib/proxy/models';
import { EmbeddingsRequest } from '../lib/proxy/schemas';
import { embeddingsUsage } from '../lib/proxy/usage';
import { valid } from '../lib/validate';

/**
 * `POST /openai/v1/embeddings`, passed through (the client's `encoding_format` included) and cached:
 * the same input always embeds the same. Served by the primary only: a backup's vectors would live
 * in another model's space than the ones the client already has.
 */
export const embeddings = new Hono<AppEnv>().post(
  '/openai/v1/embeddings',
  admitsInHandler,
  valid('json', EmbeddingsRequest),
  async (c) => {
    const request = c.req.valid('json');
    const price = servedModel(configOf(c.get('env')).prices, request.model, 'embedding');
    return proxy(c, {
      path: '/embeddings',
      capability: 'embeddings',
      backups: false,
      model: request.model,
      body: request,
      upstream: request,
      // A unit per input: a string, or one array of token ids.
      estimate: (counter) => ({
        nanos: estimateTextCost(price, embeddingTokens(counter, request.input), 0),
        units: embeddingInputs(request.input),
      }),
      usage: embeddingsUsage,
      cache: 'deterministic',
    });
  },
);
