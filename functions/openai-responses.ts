import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { configOf } from '../lib/config';
import { admitsInHandler } from '../lib/guards';
import { tokenUnits } from '../lib/key-policy';
import { estimateTextCost } from '../lib/pricing';
import { proxy } from '../lib/proxy/admission';
import { storeField } from '../lib/proxy/allow-list';
import { capOutput, promptTokens } from '../lib/proxy/estimate';
import { servedModel } from '../lib/proxy/models';
import { outputLimitsFor } from '../lib/proxy/relay';
import { ResponsesRequest } from '../lib/proxy/schemas';
import { responsesUsage } from '../lib/proxy/usage';
import { valid } from '../lib/validate';

/**
 * `POST /openai/v1/responses`: OpenAI's Responses API, passed through, by the primary only (backups
 * speak Chat Completions). A stream's usage comes from its `response.completed` event. Server-side
 * conversation state is refused: its input cannot be priced before the call. Answers are not stored
 * on the provider (`store: false` upstream) unless PROXY_ALLOW_STORE.
 */
export const responses = new Hono<AppEnv>().post(
  '/openai/v1/responses',
  admitsInHandler,
  valid('json', ResponsesRequest),
  async (c) => {
    const request = c.req.valid('json');
    const price = servedModel(configOf(c.get('env')).prices, request.model, 'text');
    const { body, maxOutputTokens } = capOutput(
      request,
      ['max_output_tokens'],
      'max_output_tokens',
      outputLimitsFor(c.get('env')),
    );
    const store = storeField(request.store, {
      allowed: c.get('env').PROXY_ALLOW_STORE,
      storesByDefault: true,
    });
    return proxy(c, {
      path: '/responses',
      capability: 'text',
      backups: false,
      model: request.model,
      body,
      upstream: { ...body, ...store },
      estimate: (counter) => {
        const input = typeof request.input === 'string' ? [request.input] : request.input;
        const messages = request.instructions ? [request.instructions, ...input] : input;
        const tokens = promptTokens(counter, messages, [request.tools, request.text, request.tool_choice]);
        return {
          nanos: estimateTextCost(price, tokens, maxOutputTokens),
          units: tokenUnits(tokens + maxOutputTokens),
        };
      },
      usage: responsesUsage,
      cache: 'sampled',
      ...(request.stream ? { stream: { api: 'responses' as const, dropUsageChunk: false } } : {}),
    });
  },
);
