import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { configOf } from '../lib/config';
import { priceOf } from '../lib/domain/cost';
import { admitsInHandler } from '../lib/guards';
import { tokenUnits } from '../lib/key-policy';
import { proxy } from '../lib/proxy/admission';
import { storeField } from '../lib/proxy/allow-list';
import { allowedBackup } from '../lib/proxy/budgeted';
import { capOutput, promptTokens, worstTextCost } from '../lib/proxy/estimate';
import { servedModel } from '../lib/proxy/models';
import { outputLimitsFor } from '../lib/proxy/relay';
import { ChatCompletionRequest } from '../lib/proxy/schemas';
import { chatUsage } from '../lib/proxy/usage';
import { servicesOf } from '../lib/request-services';
import { candidateModels } from '../lib/task-plan';
import { valid } from '../lib/validate';

/** A message with an image part needs a vision model; a backup then serves with its vision model. */
const hasImage = (messages: ChatCompletionRequest['messages']) =>
  messages.some((m) => Array.isArray(m.content) && m.content.some((part) => part.type === 'image_url'));

/**
 * `POST /openai/v1/chat/completions`: OpenAI's Chat Completions, passed through. The only API a backup
 * provider can also serve (backups speak Chat Completions), so the reservation covers the dearest
 * candidate. A stream asks upstream for its usage, to settle the budget, and hides that extra chunk
 * from a client that did not ask for it.
 */
export const chatCompletions = new Hono<AppEnv>().post(
  '/openai/v1/chat/completions',
  admitsInHandler,
  valid('json', ChatCompletionRequest),
  async (c) => {
    const request = c.req.valid('json');
    const { prices } = configOf(c.get('env'));
    servedModel(prices, request.model, 'text');
    const capability = hasImage(request.messages) ? 'vision' : 'text';
    const { body, maxOutputTokens } = capOutput(
      request,
      ['max_completion_tokens', 'max_tokens'],
      'max_completion_tokens',
      outputLimitsFor(c.get('env')),
    );
    storeField(request.store, { allowed: c.get('env').PROXY_ALLOW_STORE, storesByDefault: false });
    const wantsUsage = request.stream_options?.include_usage === true;
    return proxy(c, {
      path: '/chat/completions',
      capability,
      backups: true,
      model: request.model,
      body,
      upstream: request.stream
        ? { ...body, stream_options: { ...request.stream_options, include_usage: true } }
        : body,
      estimate: (counter) => {
        const input = promptTokens(counter, request.messages, [
          request.tools,
          request.functions,
          request.response_format,
        ]);
        const allowed = allowedBackup(servicesOf(c));
        const models = candidateModels(c.get('deps').providers(), capability, request.model)
          .filter((m, i) => i === 0 || allowed(m))
          .map((m) => priceOf(prices, m));
        const output = maxOutputTokens * (request.n ?? 1);
        return { nanos: worstTextCost(models, input, output), units: tokenUnits(input + output) };
      },
      usage: chatUsage,
      cache: 'sampled',
      ...(request.stream ? { stream: { api: 'chat' as const, dropUsageChunk: !wantsUsage } } : {}),
    });
  },
);
