import OpenAI, { type APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { withinOneMinute } from '../support/minute';
import { simConfigure, simRequests } from '../support/providers';
import { privateModel, proxyCaller, warmTokenizer } from './openai-proxy.support';

warmTokenizer();

const messages = [{ role: 'user' as const, content: 'Suggest a rain jacket' }];

/** The error a call rejects with (the test fails if it resolves). */
async function errorOf(call: Promise<unknown>): Promise<APIError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return err as APIError;
}

describe('proxy errors as the OpenAI SDK sees them', () => {
  it('a wrong gateway key is AuthenticationError 401, and nothing goes upstream', async () => {
    const { clientFor, sim } = await proxyCaller();
    const err = await errorOf(
      clientFor(`cag_${'0'.repeat(43)}`).chat.completions.create({ model: 'gpt-4.1-mini', messages }),
    );
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err).toMatchObject({ status: 401, type: 'authentication_error', code: 'invalid_api_key' });
    expect(err.requestID).toMatch(/^req_/);
    expect(await simRequests(sim)).toEqual({});
  });

  it("the key's rate limit is RateLimitError 429 rate_limit_exceeded with Retry-After", async () => {
    await withinOneMinute();
    const { client } = await proxyCaller({}, { rpm: 1 });
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'boots' });
    const err = await errorOf(client.embeddings.create({ model: 'text-embedding-3-small', input: 'socks' }));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a spent budget is RateLimitError insufficient_quota / budget_exceeded, which the SDK does not retry', async () => {
    const { clientFor, key, sim, requestCount } = await proxyCaller({}, { daily_budget_usd: 0.000001 });
    // Default retries on: `x-should-retry: false` is what stops them.
    const client = clientFor(key, { maxRetries: 2 });
    const err = await errorOf(client.chat.completions.create({ model: 'gpt-4.1-mini', messages }));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(err.headers?.get('x-should-retry')).toBe('false');
    expect(requestCount()).toBe(1);
    expect(await simRequests(sim)).toEqual({});
  });

  it("passes an upstream 400 through with the provider's status, code and param", async () => {
    const { client } = await proxyCaller();
    const err = await errorOf(
      client.responses.create({ model: 'gpt-6-luna', input: 'hi', max_output_tokens: 8 }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ type: 'invalid_request_error', param: 'max_output_tokens' });
    expect(err.message).toMatch(/max_output_tokens/);
  });

  it('a provider that keeps failing is a 502, then an open breaker a 503 with no upstream call', async () => {
    const { model, PRICING_OVERRIDES } = privateModel();
    const { client, sim } = await proxyCaller({
      PRICING_OVERRIDES,
      OPENAI_MAX_RETRIES: '0',
      OPENAI_CIRCUIT_BREAKER_FAILURES: '1',
    });
    await simConfigure(sim, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/chat/completions' }] });
    const down = await errorOf(client.chat.completions.create({ model, messages }));
    expect(down).toBeInstanceOf(OpenAI.InternalServerError);
    expect(down).toMatchObject({ status: 502, code: 'upstream_error' });
    const open = await errorOf(client.chat.completions.create({ model, messages }));
    expect(open).toBeInstanceOf(OpenAI.InternalServerError);
    expect(open).toMatchObject({ status: 503, code: 'provider_unavailable' });
    expect(Number(open.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect((await simRequests(sim))['/v1/chat/completions']).toBe(1);
  });

  it('refuses a model it cannot price with 404 model_not_found', async () => {
    const { client, sim } = await proxyCaller();
    const unknown = await errorOf(client.chat.completions.create({ model: 'dall-e-3', messages }));
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ code: 'model_not_found', param: 'model' });
    // Priced, but not a chat model.
    const wrongKind = await errorOf(
      client.chat.completions.create({ model: 'text-embedding-3-small', messages }),
    );
    expect(wrongKind).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await simRequests(sim)).toEqual({});
  });

  it.each([
    ['n above 8', '/chat/completions', { model: 'gpt-4.1-mini', messages, n: 9 }, 'n'],
    [
      'max_tokens above PROXY_MAX_OUTPUT_TOKENS',
      '/chat/completions',
      { model: 'gpt-4.1-mini', messages, max_tokens: 40_000 },
      'max_tokens',
    ],
    ['no messages', '/chat/completions', { model: 'gpt-4.1-mini', messages: [] }, 'messages'],
    [
      'server-side conversation state',
      '/responses',
      { model: 'gpt-6-luna', input: 'hi', previous_response_id: 'resp_1' },
      'previous_response_id',
    ],
    [
      'an image size past 3840x2160',
      '/images/generations',
      { model: 'gpt-image-2', prompt: 'a boot', size: '4096x4096' },
      'size',
    ],
    ['an unpriceable image quality', '/images/generations', { prompt: 'a boot', quality: 'hd' }, 'quality'],
    [
      'too many embedding inputs',
      '/embeddings',
      { model: 'text-embedding-3-small', input: Array(2049).fill('x') },
      'input',
    ],
  ])('refuses %s with 400 and the field as param, before any upstream call', async (_, path, body, param) => {
    const { raw, sim } = await proxyCaller();
    const res = await raw(path, body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { type: string; param: string; request_id: string } };
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      param,
      request_id: expect.stringMatching(/^req_/),
    });
    expect(await simRequests(sim)).toEqual({});
  });
});
